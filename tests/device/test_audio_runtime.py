"""The streaming audio path of ``edgecnn run``: ring buffer, WAV replay, clip folders, mic."""

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner

from edgecnn.cli import cli
from edgecnn.core import fileio
from edgecnn.core.errors import BadInputError, MissingDependencyError
from edgecnn.core.preprocess import DataKind, Preprocessing
from edgecnn.core.wav import read_wav, write_wav
from edgecnn.device.io import base
from edgecnn.device.io.audio import WavReplay, wav_files_in_order
from edgecnn.device.io.base import Item
from edgecnn.device.io.microphone import Microphone
from edgecnn.device.io.retry import Backoff
from edgecnn.device.io.sources import open_source
from edgecnn.device.loop import run
from edgecnn.device.runner import Runner
from edgecnn.device.windows import Windower, cut_windows
from tests.audio_clips import small_front_end, tone
from tests.testkit import FIXTURES

RATE, HOP = 8000, 256
# (8, 8, 1) MFCC features: the input of the digits fixture model, reused as a tiny audio model.
FRONT = small_front_end(clip_samples=1152)
WINDOW = FRONT.clip_samples


def audio_pre(hop: int = HOP) -> Preprocessing:
    return Preprocessing(
        kind=DataKind.AUDIO, input_shape=FRONT.feature_shape, scale=0.05, offset=0.5,
        window=WINDOW, hop=hop, sample_rate_hz=float(RATE), audio=FRONT,
    )  # fmt: skip


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """An int8 audio model bundle: the digits fixture .tflite with an audio manifest."""
    root = tmp_path_factory.mktemp("kws")
    model = root / "kws-int8.tflite"
    shutil.copy(FIXTURES / "digits-lenet5-int8.tflite", model)
    manifest = fileio.read_json(FIXTURES / "digits-lenet5-int8.json")
    manifest["preprocessing"] = audio_pre().to_dict()
    fileio.write_json(model.with_suffix(".json"), manifest)
    return model


class RollWindower:
    """The old ring buffer (``np.roll`` per sample): the reference."""

    def __init__(self, *, window, hop, channels):
        self.window, self.hop = window, hop
        self.buffer = np.zeros((window, channels))
        self.filled = self.since_last = 0

    def reset(self):
        self.filled = self.since_last = 0

    def push(self, sample):
        self.buffer = np.roll(self.buffer, -1, axis=0)
        self.buffer[-1] = sample
        self.filled = min(self.filled + 1, self.window)
        if self.filled < self.window:
            return None
        self.since_last += 1
        if self.since_last == 1 or self.since_last > self.hop:
            self.since_last = 1
            return self.buffer.copy()
        return None


@pytest.mark.parametrize("seed", range(6))
def test_ring_buffer_equals_np_roll_for_samples_blocks_and_resets(seed):
    rng = np.random.default_rng(seed)
    window, hop, channels = (int(rng.integers(1, high)) for high in (40, 50, 4))
    stream = rng.normal(size=(int(rng.integers(200, 600)), channels))
    resets = set(rng.choice(len(stream), size=3, replace=False).tolist())
    naive = RollWindower(window=window, hop=hop, channels=channels)
    expected = []
    for i, sample in enumerate(stream):
        if i in resets:
            naive.reset()
        if (w := naive.push(sample)) is not None:
            expected.append((i, w))
    singles, blocks = (Windower(window=window, hop=hop, channels=channels) for _ in range(2))
    got_singles = []
    for i, sample in enumerate(stream):
        if i in resets:
            singles.reset()
        if (w := singles.push(sample)) is not None:
            got_singles.append((i, w))
    got_blocks, start, cuts = [], 0, sorted(resets | {len(stream)})
    while start < len(stream):  # random block sizes, never across a reset
        end = min(start + int(rng.integers(1, 3 * window + 5)), next(c for c in cuts if c > start))
        if start in resets:
            blocks.reset()
        out = blocks.push_block(stream[start:end])
        got_blocks += [(None, w) for w in out]
        start = end
    assert expected, "the stream gave no window"
    assert [i for i, _ in got_singles] == [i for i, _ in expected]
    for got in (got_singles, got_blocks):
        assert len(got) == len(expected)
        assert all(np.array_equal(g, e) for (_, g), (_, e) in zip(got, expected, strict=True))


def test_block_shape_is_checked_and_windows_take_the_block_label():
    windower = Windower(window=4, hop=2, channels=2)
    with pytest.raises(BadInputError, match=r"\(n, 2\)"):
        windower.push_block(np.zeros((3, 1)))
    pre = audio_pre(hop=500)
    items = [Item(np.zeros((700, 1), np.float32), False, "a", True, True),
             Item(np.ones((900, 1), np.float32), False, "b", False, True),
             Item(np.ones((WINDOW, 1), np.float32), False, "c", True, True)]  # fmt: skip
    cut = list(cut_windows(items, pre))
    # 1600 samples of one recording: windows end at 1152 and 1652 (not yet); a new one: 1.
    assert [label for _, label in cut] == ["b", "c"]
    assert cut[0][0].shape == (WINDOW, 1) and cut[0][0].dtype == np.float32


def test_long_wav_gives_a_window_every_hop_and_pacing_options(bundle, tmp_path):
    wav = tmp_path / "long.wav"
    write_wav(wav, tone(3.0, 440), sample_rate_hz=RATE)
    pre = Runner(bundle).preprocessing
    n = len(read_wav(wav).samples)
    windows = list(cut_windows(open_source(f"replay:{wav}?rate=0", pre), pre))
    assert len(windows) == 1 + (n - WINDOW) // HOP
    assert open_source(f"replay:{wav}", pre).rate_hz == RATE  # real time by default
    assert open_source(f"replay:{wav}", pre, rate_hz=0).rate_hz == 0
    assert open_source(f"replay:{wav}?rate=16000", pre, rate_hz=0).rate_hz == 16000
    with pytest.raises(BadInputError, match="rate='fast'"):
        open_source(f"replay:{wav}?rate=fast", pre)
    resampled = tmp_path / "16k.wav"  # another rate: resampled to the model's
    write_wav(resampled, np.zeros(32000), sample_rate_hz=16000)
    assert len(WavReplay(resampled, pre, rate_hz=0).samples) == 16000


class FakeClock:
    """A monotonic clock that a stop flag's ``wait`` advances: pacing without real time."""

    def __init__(self) -> None:
        self.now, self.waits = 100.0, []

    def monotonic(self) -> float:
        return self.now

    def wait(self, delay: float) -> bool:
        self.waits.append(delay)
        self.now += delay
        return False

    def is_set(self) -> bool:
        return False


def test_replay_is_paced_at_the_rate_asked(bundle, tmp_path, monkeypatch):
    wav = tmp_path / "paced.wav"
    write_wav(wav, tone(0.3, 440), sample_rate_hz=RATE)  # 2400 samples: 10 blocks, 0.03 s
    pre = Runner(bundle).preprocessing
    clock = FakeClock()
    monkeypatch.setattr(base, "time", SimpleNamespace(monotonic=clock.monotonic))
    source = open_source(f"replay:{wav}?rate=80000", pre)
    source.stop = clock
    blocks = list(source)
    assert len(blocks) == len(clock.waits) == 10  # one wait per block, each one hop long
    assert clock.waits == pytest.approx([HOP / 80000] * 10)
    monkeypatch.undo()  # real time: never faster than asked (a loaded machine is only slower)
    started = time.monotonic()
    list(open_source(f"replay:{wav}?rate=80000", pre))
    assert time.monotonic() - started >= 0.9 * 10 * HOP / 80000


def test_wav_refused_by_a_sensor_model_and_bad_wav(tmp_path):
    wav = tmp_path / "a.wav"
    write_wav(wav, np.zeros(100), sample_rate_hz=RATE)
    sensor = Runner(FIXTURES / "imu-cnn1d-int8.tflite").preprocessing
    with pytest.raises(BadInputError, match="is audio .* takes sensor input, not audio"):
        open_source(f"replay:{wav}", sensor)
    (tmp_path / "bad.wav").write_text("not a wav")
    with pytest.raises(BadInputError, match="not a WAV"):
        open_source(f"replay:{tmp_path / 'bad.wav'}", audio_pre())


BLOCK_AND_RUN = """
import importlib.abc, json, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "keras", "tf_keras", "scipy"):
            raise ImportError("blocked: " + name)

sys.meta_path.insert(0, Block())
from click.testing import CliRunner
from edgecnn.cli import cli
result = CliRunner().invoke(cli, ["run", *sys.argv[1:]])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "scipy"))
print(json.dumps({"exit": result.exit_code, "err": result.stderr, "heavy": heavy}))
"""


def test_wav_replay_through_edgecnn_run_without_tensorflow(bundle, tmp_path):
    wav, out = tmp_path / "speech.wav", tmp_path / "out.jsonl"
    samples = np.concatenate([tone(0.5, 300), tone(0.5, 1200, seed=1)])
    write_wav(wav, samples, sample_rate_hz=RATE)
    args = [str(bundle), "--source", f"replay:{wav}", "--rate", "0", "--sink", f"jsonl:{out}"]
    proc = subprocess.run(
        [sys.executable, "-c", BLOCK_AND_RUN, *args], capture_output=True, text=True, check=True
    )
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["exit"] == 0, report["err"]
    assert report["heavy"] == []
    results = [json.loads(line) for line in out.read_text().splitlines()]
    clip = read_wav(wav).samples
    starts = range(0, len(clip) - WINDOW + 1, HOP)
    runner = Runner(bundle)
    expected = [runner.labels[int(np.argmax(runner.predict_raw(clip[s : s + WINDOW])))]
                for s in starts]  # fmt: skip
    assert [r["label"] for r in results] == expected
    assert f"{len(expected)} windows" in report["err"] and "p50 feed" in report["err"]


def test_dir_of_labelled_clips_gives_the_accuracy(bundle, tmp_path):
    runner = Runner(bundle)
    clips = [tone(WINDOW / RATE, hz, seed=i) for i, hz in enumerate(range(100, 3100, 250))]
    predicted = [runner.labels[int(np.argmax(runner.predict_raw(c)))] for c in clips]
    for i, (clip, label) in enumerate(zip(clips, predicted, strict=True)):
        folder = label if i % 2 == 0 else next(x for x in runner.labels if x != label)
        (tmp_path / "clips" / folder).mkdir(parents=True, exist_ok=True)
        write_wav(tmp_path / "clips" / folder / f"c{i:02d}.wav", clip, sample_rate_hz=RATE)
    (tmp_path / "clips" / "_background_noise_").mkdir()
    write_wav(tmp_path / "clips" / "_background_noise_" / "n.wav", tone(2, 50), sample_rate_hz=RATE)
    summary = run(str(bundle), source=f"dir:{tmp_path / 'clips'}", sinks=(), log=lambda _: None)
    assert summary.windows == summary.labelled == len(clips)  # one window per clip
    assert summary.accuracy == pytest.approx(0.5)
    assert summary.p50_feed_ms > 0 and summary.to_dict()["p99_feed_ms"] >= summary.p50_feed_ms


def test_wav_files_in_order_is_the_folder_sources_order(tmp_path):
    for name in ("b/2.wav", "a/9.WAV", "a/10.wav", "_background_noise_/n.wav", "top.Wav",
                 "a/notes.txt", "a/x.wav/inner.wav"):  # fmt: skip
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    got = [p.relative_to(tmp_path).as_posix() for p in wav_files_in_order(tmp_path)]
    assert got == ["a/10.wav", "a/9.WAV", "b/2.wav", "top.Wav"]  # deeper: not read, as by train


def fake_arecord(folder: Path, body: str) -> Path:
    folder.mkdir(exist_ok=True)
    script = folder / "arecord"
    script.write_text(f'#!/bin/sh\necho "$@" > {folder}/args\n{body}\n')
    script.chmod(0o755)
    return folder


@pytest.fixture
def pcm(tmp_path) -> tuple[Path, np.ndarray]:
    values = (tone(0.5, 700) * 32767).astype("<i2")
    path = tmp_path / "known.raw"
    path.write_bytes(values.tobytes())
    return path, values.astype(np.float32) / 32768


def test_mic_reads_arecord_and_counts_a_busy_device(bundle, tmp_path, pcm, monkeypatch, caplog):
    raw, expected = pcm
    busy = (f"if [ ! -e {tmp_path}/tried ]; then touch {tmp_path}/tried; "
            "echo 'arecord: main:850: audio open error: Device or resource busy' >&2; exit 1; fi\n"
            f"exec cat {raw}")  # fmt: skip
    bin_dir = fake_arecord(tmp_path / "bin", busy)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    pre = Runner(bundle).preprocessing
    slept = []
    mic = Microphone("hw:7,0", pre, backoff=Backoff(sleep=slept.append))
    items = list(mic)
    assert mic.stats.errors == 1 and slept == [0.5]
    assert "microphone hw:7,0" in caplog.text and "Device or resource busy" in caplog.text
    assert (bin_dir / "args").read_text().split() == [
        "-q", "-D", "hw:7,0", "-t", "raw", "-f", "S16_LE", "-c", "1", "-r", str(RATE)
    ]  # fmt: skip
    assert items[0].new_recording and all(item.block for item in items)
    assert np.array_equal(np.concatenate([item.values[:, 0] for item in items]), expected)
    (tmp_path / "tried").unlink()  # busy again, now under edgecnn run (a 10 ms backoff)
    monkeypatch.setitem(Microphone.__init__.__kwdefaults__, "backoff", Backoff(first=0.01))
    summary = run(str(bundle), source="mic:hw:7,0?rate=8000", sinks=(), log=lambda _: None)
    assert summary.windows == 1 + (len(expected) - WINDOW) // HOP and summary.sensor_errors == 1


# What arecord prints here for `-D hw:9`, `-D nosuch` and `-D plughw:CARD=Nope`.
MISSING = {
    "hw:9": "ALSA lib confmisc.c:165:(snd_config_get_card) Cannot get card index for 9\n"
            "arecord: main:831: audio open error: No such file or directory",
    "nosuch": "ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM nosuch\n"
              "arecord: main:831: audio open error: No such file or directory",
    "plughw:CARD=Nope": "ALSA lib confmisc.c:165:(snd_config_get_card) Cannot get card index "
                        "for Nope\narecord: main:831: audio open error: No such device",
}  # fmt: skip


@pytest.mark.parametrize("device", sorted(MISSING))
def test_missing_mic_is_bad_input_in_one_line(bundle, tmp_path, monkeypatch, device):
    said = MISSING[device].replace("\n", "' >&2\necho '")
    bin_dir = fake_arecord(tmp_path / "bin", f"echo '{said}' >&2\nexit 1")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    slept = []
    backoff = Backoff(sleep=slept.append, max_failures=2)  # the old retry-forever fails
    mic = Microphone(device, Runner(bundle).preprocessing, backoff=backoff)
    with pytest.raises(BadInputError, match=f"microphone {device} not found .*arecord -l"):
        list(mic)
    assert mic.stats.errors == 0 and slept == []  # refused at once, not retried
    result = CliRunner().invoke(cli, ["run", str(bundle), "--source", f"mic:{device}"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and device in lines[0] and "arecord -l" in lines[0]


def test_mic_that_vanishes_after_working_is_retried(bundle, tmp_path, pcm, monkeypatch):
    raw, expected = pcm
    runs = tmp_path / "runs"  # 1: audio then unplugged; 2: not back yet; 3: back
    script = (f"echo x >> {runs}; n=$(wc -l < {runs})\n"
              f"if [ $n -eq 1 ]; then cat {raw}; "
              "echo 'arecord: pcm_read:2221: read error: No such device' >&2; exit 1; fi\n"
              f"if [ $n -eq 2 ]; then echo '{MISSING['hw:9']}' >&2; exit 1; fi\n"
              f"exec cat {raw}")  # fmt: skip
    bin_dir = fake_arecord(tmp_path / "bin", script)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    slept = []
    mic = Microphone("hw:9", Runner(bundle).preprocessing, backoff=Backoff(sleep=slept.append))
    items = list(mic)
    assert mic.stats.errors == 2 and slept == [0.5, 1.0]
    assert sum(item.new_recording for item in items) == 2
    got = np.concatenate([item.values[:, 0] for item in items])
    assert np.array_equal(got, np.concatenate([expected, expected]))


def test_real_arecord_on_a_device_that_does_not_exist(bundle):
    require_arecord()
    mic = Microphone("edgecnn-no-such-pcm", Runner(bundle).preprocessing)
    with pytest.raises(BadInputError, match="microphone edgecnn-no-such-pcm not found"):
        list(mic)


def test_mic_errors_in_one_line(bundle, tmp_path, monkeypatch):
    pre = Runner(bundle).preprocessing
    with pytest.raises(BadInputError, match="16000 Hz differs from the model's 8000 Hz"):
        open_source("mic?rate=16000", pre)
    with pytest.raises(BadInputError, match="takes sensor input, not audio"):
        open_source("mic", Runner(FIXTURES / "imu-cnn1d-int8.tflite").preprocessing)
    monkeypatch.setenv("PATH", str(tmp_path))  # no arecord anywhere
    with pytest.raises(MissingDependencyError, match="sudo apt-get install alsa-utils"):
        open_source("mic:default", pre)
    result = CliRunner().invoke(cli, ["run", str(bundle), "--source", "mic"])
    assert result.exit_code == 2
    assert "sudo apt-get install alsa-utils" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_stop_kills_arecord_promptly(bundle, tmp_path, monkeypatch):
    bin_dir = fake_arecord(tmp_path / "bin", f"echo $$ > {tmp_path}/pid\nexec sleep 30")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    mic = Microphone("default", Runner(bundle).preprocessing)
    done = threading.Event()
    thread = threading.Thread(target=lambda: (list(mic), done.set()))
    thread.start()
    deadline = time.monotonic() + 5
    while not (tmp_path / "pid").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    mic.stop.set()
    assert done.wait(3) and time.monotonic() - started < 1.5
    thread.join()
    pid = int((tmp_path / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def require_arecord() -> None:
    """Skips without arecord (fails instead with EDGECNN_REQUIRE_ARECORD=1, as in CI)."""
    if shutil.which("arecord") is None:
        reason = "arecord (alsa-utils) is not installed; the real microphone tests cannot run"
        if os.environ.get("EDGECNN_REQUIRE_ARECORD") == "1":
            pytest.fail(f"EDGECNN_REQUIRE_ARECORD=1 but {reason}")
        print(reason)
        pytest.skip(reason)


def test_real_arecord_on_the_null_device(bundle):
    require_arecord()  # ALSA's null device records silence, with no sound card needed
    mic = Microphone("null", Runner(bundle).preprocessing)
    samples, started = 0, time.monotonic()
    for item in mic:
        samples += len(item.values)
        if samples >= 3 * RATE // 10 or time.monotonic() - started > 0.5:
            mic.stop.set()
    assert samples >= 3 * RATE // 10 and mic.stats.errors == 0
