"""edgecnn export arduino for an audio model: the C++ front end in the sketch, against numpy.

A tiny int8 conv net on MFCC features of 0.25 s clips at 8 kHz (14 x 8) is exported for the
Nano 33 BLE Sense. The sketch's model_io.cpp and audio_frontend.cpp are compiled with the host
g++ and a harness (benchmarks/audio_frontend_c.py: int16 clips in, C features and int8 input
out), and compared on synthetic speech-like clips with numpy's ``Preprocessing.apply`` and
the runtime's input quantization; both int8 inputs then run through the real TFLite Micro
kernels for top-1 agreement. The whole sketch also runs on the PC against the stub Arduino
and TFLite Micro headers of tests/export/test_export_arduino.py. Without g++ the compiled tests skip
with a printed reason (they fail instead with EDGECNN_REQUIRE_GPP=1).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
from test_export_arduino import HOST_MAIN, NANO, compile_cmd, constant, gpp, read, run, write_board

from edgecnn.core import fileio
from edgecnn.core.errors import BadInputError
from edgecnn.core.manifest import Manifest, VariantInfo, manifest_path
from edgecnn.core.modes import IOType, Mode
from edgecnn.core.preprocess import DataKind, Preprocessing, channel_stats
from edgecnn.export import arena_with_margin, export_arduino
from edgecnn.export.audiofrontend_c import work_ram_bytes
from tests.audio_clips import small_front_end
from tests.testkit import BENCHMARKS, script_module

SCRIPT = BENCHMARKS / "audio_frontend_c.py"
FRONT = small_front_end()
LABELS = ["low", "high", "hiss"]


def make_clips(per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """int16 clips of three sound classes: low and high formant voices, and a hiss burst."""
    rng = np.random.default_rng(seed)
    t = np.arange(FRONT.clip_samples) / FRONT.sample_rate_hz
    clips, labels = [], []
    for label in range(len(LABELS)):
        for _ in range(per_class):
            onset, length = rng.uniform(0.0, 0.1), rng.uniform(0.08, 0.15)
            envelope = np.clip(np.sin(np.pi * (t - onset) / length), 0, None) * (t > onset)
            envelope *= t < onset + length
            if label == 2:
                sound = rng.standard_normal(t.size) * 0.3
            else:
                formant = (500.0, 2000.0)[label] * rng.uniform(0.85, 1.15)
                pitch = rng.uniform(100, 200)
                harmonics = np.arange(1, int(3800 / pitch))
                weights = np.exp(-(((harmonics * pitch - formant) / 300) ** 2))
                sound = weights @ np.sin(2 * np.pi * np.outer(harmonics, t) * pitch)
            gain = 10 ** rng.uniform(-1.5, -0.3)
            x = gain * envelope * sound / max(np.abs(sound).max(), 1e-9)
            x += 0.003 * rng.standard_normal(t.size)
            clips.append(np.clip(np.round(x * 32768), -32768, 32767))
            labels.append(label)
    return np.asarray(clips, dtype=np.int16), np.asarray(labels)


def edge_clips() -> np.ndarray:
    """Silence, one-LSB noise and full-scale (clipping) noise: the ends of the range."""
    rng = np.random.default_rng(7)
    n = FRONT.clip_samples
    full = rng.choice(np.array([-32768, 32767]), n)
    return np.stack([np.zeros(n), rng.integers(-1, 2, n), full]).astype(np.int16)


def as_float(pcm: np.ndarray) -> np.ndarray:
    return pcm.astype(np.float32) / 32768


def write_bundle(folder: Path, *, audio: dict | None = None) -> Path:
    """Trains the tiny model on MFCCs, converts it to int8, writes .tflite + manifest."""
    from edgecnn.optimize.convert import convert
    from edgecnn.training.tfdeps import keras

    k = keras()
    pcm, y = make_clips(20, seed=0)
    features = FRONT.compute(as_float(pcm))
    base = Preprocessing(
        kind=DataKind.AUDIO,
        input_shape=FRONT.feature_shape,
        window=FRONT.clip_samples,
        hop=FRONT.hop_samples,
        sample_rate_hz=FRONT.sample_rate_hz,
        audio=FRONT,
    )
    prep = base.with_stats(*channel_stats(features, scale=1.0, offset=0.0))
    x = prep.transform(features)
    k.utils.set_random_seed(0)
    model = k.Sequential(
        [
            k.Input(FRONT.feature_shape),
            k.layers.Conv2D(6, 3, padding="same", activation="relu"),
            k.layers.MaxPooling2D(2),
            k.layers.Flatten(),
            k.layers.Dense(len(LABELS), activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=25, batch_size=12, verbose=0)
    tflite = convert(model, Mode.INT8, calibration=x)
    return save_bundle(folder, tflite, prep.to_dict() | ({"audio": audio} if audio else {}))


def save_bundle(folder: Path, tflite: bytes, preprocessing: dict) -> Path:
    from edgecnn.device.interpreter import TFLiteModel

    path = folder / "tones-int8.tflite"
    fileio.write_bytes(path, tflite)
    quantized = TFLiteModel(tflite)
    manifest = Manifest(
        labels=LABELS,
        input=quantized.input.to_dict(),
        output=quantized.output.to_dict(),
        preprocessing=None,  # written below as given: the refusals need ones edgecnn refuses
        variant=VariantInfo(mode=Mode.INT8, io=IOType.INT),
        source_model="tests/export/test_export_audio.py",
        metrics={},
        sha256=hashlib.sha256(tflite).hexdigest(),
        size_bytes=len(tflite),
        versions={},
    )
    fileio.write_json(manifest_path(path), manifest.to_dict() | {"preprocessing": preprocessing})
    return path


def edited_bundle(model: Path, folder: Path, **preprocessing) -> Path:
    """A copy of ``model`` whose manifest's preprocessing has ``preprocessing`` changed."""
    data = json.loads(model.with_suffix(".json").read_text())
    return save_bundle(folder, model.read_bytes(), data["preprocessing"] | preprocessing)


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return write_bundle(tmp_path_factory.mktemp("bundle"))


@pytest.fixture(scope="module")
def exported(model, tmp_path_factory):
    return export_arduino(model, board=NANO, out=tmp_path_factory.mktemp("out"))


@pytest.fixture(scope="module")
def bench():
    """benchmarks/audio_frontend_c.py as a module (benchmarks/ is not a package)."""
    with script_module(SCRIPT, "audio_frontend_c_bench") as module:
        yield module


@pytest.fixture(scope="module")
def harness(exported, bench, tmp_path_factory):
    compiler = gpp()
    work = tmp_path_factory.mktemp("harness")
    return bench.build_harness(Path(exported.sketch_dir), work, compiler=compiler)


# --- what the sketch holds -------------------------------------------------------------


def test_sketch_carries_the_front_end_and_reads_pcm_clips(exported):
    files = set(exported.files)
    assert {"audio_frontend.h", "audio_frontend.cpp", "tones-int8.ino"} <= files
    banner = read(exported, "model_data.h").splitlines()[:2]
    for name in ("audio_frontend.h", "audio_frontend.cpp"):
        assert read(exported, name).splitlines()[:2] == banner
    settings = read(exported, "model_settings.h")
    assert int(constant(settings, "kRawElements")) == 2000
    assert int(constant(settings, "kInputElements")) == 14 * 8
    ino = read(exported, "tones-int8.ino")
    assert '#include "audio_frontend.h"' in ino
    assert "edgecnn_audio_features(pcm, features);" in ino
    assert "PcmLineFeed(&csv_line, c, pcm, kRawElements)" in ino
    assert "CsvLineFeed" not in ino


def test_ram_beyond_the_arena_is_counted_and_documented(exported):
    audio_ram = 2 * 2000 + 4 * 14 * 8 + work_ram_bytes(FRONT)
    assert exported.audio_ram_bytes == audio_ram
    assert exported.ram_margin_bytes == 256 * 1024 - exported.arena_with_margin_bytes - audio_ram
    assert exported.to_dict()["audio_ram_bytes"] == audio_ram
    text = read(exported, "README.md")
    for needle in (
        "| PCM clip buffer (2,000 int16 samples) | 4,000 |",
        f"| RAM beyond the arena, audio | {audio_ram:,} |",
        f"| RAM, arena and audio together | {audio_ram + exported.arena_with_margin_bytes:,} |",
        "2000 int16 PCM samples",
        "mono at 8000 Hz (250 ms)",
        "14 frames of 8 values",
        "label=<label> score=<score> frontend_us=<microseconds> invoke_us=<microseconds>",
        "send 2000 comma-separated int16 PCM samples per line",
        "`audio_frontend.h/.cpp` | the audio front end (MFCC",
    ):
        assert needle in text, needle


# --- C against numpy, then through TFLite Micro ------------------------------------------


def test_c_front_end_gives_the_numpy_int8_input_and_the_same_top1(model, exported, bench, harness):
    pcm_test, labels = make_clips(40, seed=1)
    pcm = np.concatenate([pcm_test, edge_clips()])
    found = bench.compare(model, pcm, program=harness, arena=exported.arena_with_margin_bytes)
    print(
        f"\n{found.clips} clips: max |C - numpy| feature {found.max_feature_diff:.2e} "
        f"({found.max_feature_diff_steps:.4f} int8 steps); int8 values differing "
        f"{found.int8_differing}/{found.int8_total}, max {found.int8_max_steps} step(s); "
        f"top-1 agreement through TFLM {found.top1_agreement:.2%}"
    )
    assert found.max_feature_diff < 1e-3  # tests/export/test_audiofrontend_c.py's tolerance
    assert found.int8_max_steps <= 1
    assert found.int8_differing <= 0.01 * found.int8_total
    assert found.top1_agreement >= 0.98
    scored = bench.compare(
        model, pcm_test, program=harness, arena=exported.arena_with_margin_bytes, labels=labels
    )
    assert scored.numpy_accuracy > 0.8  # the model learned the classes: agreement means something
    assert abs(scored.c_accuracy - scored.numpy_accuracy) <= 0.02


def test_benchmark_reads_run_clips_on_the_16_bit_grid(bench):
    pcm, _ = make_clips(2, seed=3)
    again, off_grid = bench.to_pcm(as_float(pcm))
    np.testing.assert_array_equal(again, pcm)
    assert off_grid == 0
    assert bench.to_pcm(np.array([0.5 / 32768, 1.0, -1.0]))[1] == 2  # rounded; clipped


# --- the whole sketch on the PC ------------------------------------------------------------


def build_sketch(sketch_dir: Path, work: Path) -> Path:
    main = work / "host_main.cpp"
    main.write_text(HOST_MAIN)
    program = work / "host"
    sources = ["model_io.cpp", "model_data.cpp", "audio_frontend.cpp"]
    ino = str(sketch_dir / f"{sketch_dir.name}.ino")
    paths = [str(sketch_dir / s) for s in sources] + [str(main)]
    run(compile_cmd(sketch_dir, "-x", "c++", ino, "-x", "none", *paths, "-o", str(program)))
    return program


@pytest.mark.parametrize("std", ["c++11", "c++17"])
def test_audio_sketch_compiles_against_the_tflite_micro_headers(exported, std):
    sketch_dir = Path(exported.sketch_dir)
    ino = str(sketch_dir / f"{sketch_dir.name}.ino")
    run(compile_cmd(sketch_dir, "-fsyntax-only", "-x", "c++", ino, std=std))
    sources = [str(sketch_dir / s) for s in ("model_io.cpp", "audio_frontend.cpp")]
    run(compile_cmd(sketch_dir, "-fsyntax-only", *sources, std=std))


def test_sketch_reads_a_pcm_line_and_prints_front_end_and_invoke_times(
    model, exported, bench, harness, tmp_path
):
    pcm = make_clips(1, seed=5)[0][1]
    _, expected = bench.c_path(harness, pcm[None], features=112, inputs=112)
    program = build_sketch(Path(exported.sketch_dir), tmp_path)
    line = ",".join(str(v) for v in pcm)
    out_of_range = ",".join(["40000"] + ["0"] * 1999)
    serial_in = f"{line}\r\n\n1,2,3\n{out_of_range}\n1.5,2\n"
    out = run([str(program), "sketch"], input=serial_in).stdout.splitlines()
    stub_used = 112 + 3  # the stub arena holds the input and the output
    assert out[0] == (
        f"ready: arena used {stub_used} of {exported.arena_with_margin_bytes} bytes; "
        "send 2000 comma-separated int16 PCM samples per line"
    )
    manifest = json.loads(model.with_suffix(".json").read_text())["output"]
    scores = expected[0][:3]  # the stub model: score k = input value k
    top = int(np.argmax(scores))
    score = (np.float32(scores[top]) - manifest["zero_point"]) * np.float32(manifest["scale"])
    assert out[1] == f"label={LABELS[top]} score={score:.4f} frontend_us=250 invoke_us=250"
    assert out[2] == "error: expected 2000 values, got 3"
    bad = "error: a value is not an int16 PCM sample, an integer from -32768 to 32767"
    assert out[3:5] == [bad, bad]
    assert out[-1] == "last_input " + " ".join(str(v) for v in expected[0])


# --- refusals ---------------------------------------------------------------------------


def test_front_end_not_giving_the_model_input_is_refused(model, tmp_path):
    other = edited_bundle(model, tmp_path, audio=FRONT.to_dict() | {"coefficients": 10})
    with pytest.raises(BadInputError, match=r"features of shape \(14, 10, 1\) .* \(14, 8, 1\)"):
        export_arduino(other, board=NANO, out=tmp_path / "out")


def test_audio_kind_without_a_front_end_is_refused(model, tmp_path):
    other = edited_bundle(model, tmp_path, audio=None)
    with pytest.raises(BadInputError, match="kind audio but has no audio front end"):
        export_arduino(other, board=NANO, out=tmp_path / "out")


def test_audio_buffers_count_in_the_ram_check(model, exported, tmp_path, monkeypatch):
    ram_kib = -(-exported.arena_with_margin_bytes // 1024)  # the arena alone fits
    write_board(tmp_path / "boards", ram_kib=ram_kib, flash_kib=1024)
    monkeypatch.setenv("EDGECNN_BOARDS", str(tmp_path / "boards"))
    needed = arena_with_margin(exported.arena_bytes) + exported.audio_ram_bytes
    over = needed - ram_kib * 1024
    with pytest.raises(
        BadInputError,
        match=re.escape(
            f"and {exported.audio_ram_bytes:,} B of audio clip, features and front end but "
            f"Tiny MCU has {ram_kib * 1024:,} B of RAM: {over:,} B too much"
        ),
    ):
        export_arduino(model, board="tiny-mcu", out=tmp_path / "out")
