"""A clip in a ``dir:`` source whose header asks for unbounded memory is skipped and counted.

Before the WAV bounds, a clip declaring 1 Hz (or 4294967291 Hz) was resampled into gigabytes:
under the test's 256 MiB cap a MemoryError that ended the whole run, on a Pi an
out-of-memory kill.
"""

from __future__ import annotations

import shutil
import struct

from edgecnn.core import fileio
from edgecnn.core.preprocess import DataKind, Preprocessing
from edgecnn.core.wav import write_wav
from tests.audio_clips import RATE, small_front_end, tone
from tests.memlimit import run_capped
from tests.testkit import FIXTURES

FRONT = small_front_end(clip_samples=1152)  # (8, 8, 1): the digits fixture model's input


def audio_bundle(root):
    """The digits fixture .tflite with an audio manifest (as test_audio_runtime's bundle)."""
    model = root / "kws-int8.tflite"
    shutil.copy(FIXTURES / "digits-lenet5-int8.tflite", model)
    manifest = fileio.read_json(FIXTURES / "digits-lenet5-int8.json")
    manifest["preprocessing"] = Preprocessing(
        kind=DataKind.AUDIO, input_shape=FRONT.feature_shape, scale=0.05, offset=0.5,
        window=FRONT.clip_samples, hop=256, sample_rate_hz=float(RATE), audio=FRONT,
    ).to_dict()  # fmt: skip
    fileio.write_json(model.with_suffix(".json"), manifest)
    return model


def declared_rate_wav(rate: int, samples: int) -> bytes:
    fmt = struct.pack("<HHIIHH", 1, 1, rate, (2 * rate) & 0xFFFFFFFF, 2, 16)
    data = b"\0" * (2 * samples)
    body = (b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
            + b"data" + struct.pack("<I", len(data)) + data)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_a_clip_with_an_absurd_rate_is_skipped_and_the_run_goes_on(tmp_path):
    model = audio_bundle(tmp_path)
    clips = tmp_path / "clips"
    for i, word in enumerate(("a", "b", "c")):
        (clips / word).mkdir(parents=True)
        write_wav(clips / word / "ok.wav", tone(FRONT.clip_samples / RATE, 300 + 400 * i),
                  sample_rate_hz=RATE)
    (clips / "a" / "one-hz.wav").write_bytes(declared_rate_wav(1, 16000))  # 32 KB
    (clips / "b" / "huge-rate.wav").write_bytes(declared_rate_wav(4294967291, 100))
    done = run_capped(
        "from edgecnn.device.loop import run",
        f"""
        summary = run({str(model)!r}, source={'dir:' + str(clips)!r}, sinks=(),
                      log=lambda _: None)
        print("windows", summary.windows, "dropped", summary.dropped)
        """,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "windows 3 dropped 2" in done.stdout, done.stdout
    assert "cannot resample 16000 samples from 1 Hz" in done.stderr  # the first, logged once
