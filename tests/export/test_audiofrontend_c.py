"""The generated C++ audio front end, compiled with the host g++, against numpy's compute().

Like tests/export/test_export_arduino.py, the generated files are compiled on the PC (skipped with a
printed reason without g++, failing instead with EDGECNN_REQUIRE_GPP=1 as in CI), here with
a tiny harness that reads int16 clips on stdin and writes float32 features on stdout.

Tolerance: C runs in float32, numpy in float64 (with the same float32-rounded tables). The
FFT's float32 rounding noise lies ~140 dB below a frame's peak; after log(mel + 1e-6) it
shows only in bands that far below the frame's loudest, which recorded sound (microphone
noise, int16 quantization at -100 dB) never has but a synthetic pure tone does. So:
- every clip but the pure tone: 1e-3 absolute (measured <= 3.1e-5: silence's MFCC 0 is
  about -123, where one float32 step is 7.6e-6);
- the full-scale pure tone: 5e-2 (measured 2.8e-3 at the KWS settings, 3.4e-2 with a
  2048-point FFT; TensorFlow's float32 tf.signal differs from numpy by 1.8e-3 and 6.4e-2
  on the same clips, so C is as close to numpy as TensorFlow itself).
An MFCC is a weighted sum of the log-mel values (weights <= 2/sqrt(2 * bands)), so its error
stays within that of the log-mel; int8 input steps of a KWS model are ~0.1..1.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from edgecnn.core.audiofeatures import AudioFrontEnd
from edgecnn.export.audiofrontend_c import (
    HEADER_FILE,
    SOURCE_FILE,
    render_audio_frontend,
    sparse_mel,
)
from tests.export.test_export_arduino import gpp

TOLERANCE = 1e-3
PURE_TONE_TOLERANCE = 5e-2
STRICT = [
    "-Wall",
    "-Wextra",
    "-Werror",
    "-pedantic",
    "-Wshadow",
    "-Wconversion",
    "-Wdouble-promotion",
]  # double promotion would be slow on single-precision FPUs

HARNESS = r"""
#include <cstdio>
#include "audio_frontend.h"

static int16_t pcm[kAudioClipSamples];
static float features[kAudioFeatureCount];

int main() {
  const size_t clip = static_cast<size_t>(kAudioClipSamples);
  while (std::fread(pcm, sizeof(int16_t), clip, stdin) == clip) {
    edgecnn_audio_features(pcm, features);
    std::fwrite(features, sizeof(float), static_cast<size_t>(kAudioFeatureCount), stdout);
  }
  return 0;
}
"""


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, timeout=120, **kwargs)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done


def write_sources(fe: AudioFrontEnd, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in render_audio_frontend(fe).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def build(fe: AudioFrontEnd, folder: Path) -> Path:
    """The generated front end and HARNESS, compiled as C++11 with strict warnings."""
    write_sources(fe, folder)
    (folder / "harness.cpp").write_text(HARNESS)
    program = folder / "harness"
    sources = [str(folder / SOURCE_FILE), str(folder / "harness.cpp")]
    run([gpp(), "-std=c++11", "-O2", *STRICT, f"-I{folder}", *sources, "-o", str(program)])
    return program


def c_features(program: Path, fe: AudioFrontEnd, pcm: np.ndarray) -> np.ndarray:
    out = run([str(program)], input=pcm.astype("<i2").tobytes()).stdout
    return np.frombuffer(out, dtype="<f4").reshape(len(pcm), fe.frames, fe.bins)


def pcm_clips(fe: AudioFrontEnd, seed: int = 0) -> dict[str, np.ndarray]:
    """Speech-like, silent, near-silent and full-scale int16 clips."""
    rng = np.random.default_rng(seed)
    n, rate = fe.clip_samples, fe.sample_rate_hz
    t = np.arange(n) / rate
    pitch = 120 + 60 * t / t[-1]  # a gliding voice: harmonics shaped by two "formants"
    phase = 2 * np.pi * np.cumsum(pitch) / rate

    def formants(hz: float) -> float:
        return np.exp(-(((hz - 700) / 300) ** 2)) + 0.5 * np.exp(-(((hz - 1800) / 400) ** 2))

    voice = sum(np.sin(h * phase) * formants(h * 150) for h in range(1, 25))
    syllables = np.clip(np.sin(np.pi * t * 3 / t[-1]), 0, None) ** 2
    speech = 0.25 * voice * syllables + 0.01 * rng.standard_normal(n)
    clips = {
        "speech": speech,
        "quiet speech": 0.01 * speech,
        "silence": np.zeros(n),
        "one LSB noise": rng.integers(-1, 2, n) / 32768,
        "full-scale noise": rng.uniform(-1, 1, n),
        "full-scale tone": np.sin(2 * np.pi * 1000 * t),
        "full-scale square": np.sign(np.sin(2 * np.pi * 250 * t + 0.1)),
    }
    return {
        name: np.clip(np.round(x * 32768), -32768, 32767).astype(np.int16)  # -1 -> -32768
        for name, x in clips.items()
    }


def compare(program: Path, fe: AudioFrontEnd) -> None:
    clips = pcm_clips(fe)
    pcm = np.stack(list(clips.values()))
    reference = fe.compute(pcm)[..., 0]  # int16 scaled by 1/32768, as the C code does
    diff = np.abs(c_features(program, fe, pcm).astype(np.float64) - reference)
    relative = diff / np.maximum(np.abs(reference), 1.0)
    for name, d, r in zip(clips, diff, relative, strict=True):
        print(
            f"{fe.feature}/{fe.spectrum} fft {fe.fft_size} {name}: max |C - numpy| "
            f"{d.max():.1e}, relative {r.max():.1e}"
        )
        assert d.max() < (PURE_TONE_TOLERANCE if name == "full-scale tone" else TOLERANCE), name


@pytest.fixture(scope="module")
def kws_program(tmp_path_factory):
    return build(AudioFrontEnd(), tmp_path_factory.mktemp("kws"))


def test_kws_mfcc_matches_numpy(kws_program):
    compare(kws_program, AudioFrontEnd())


def test_log_mel_power_at_8khz_matches_numpy(tmp_path):
    fe = AudioFrontEnd.from_ms(
        sample_rate_hz=8000,
        clip_ms=750,
        window_ms=32,
        hop_ms=16,
        feature="log_mel",
        spectrum="power",
        mel_bands=24,
        lower_hz=0.0,
        upper_hz=4000.0,
    )
    assert fe.frame_samples == fe.fft_size == 256  # no zero padding
    compare(build(fe, tmp_path), fe)


def test_mfcc_with_a_long_fft_matches_numpy(tmp_path):
    fe = AudioFrontEnd(
        frame_samples=640,
        fft_size=2048,
        mel_bands=64,
        coefficients=13,
        upper_hz=7600.0,
        clip_samples=8000,
        hop_samples=480,
    )
    compare(build(fe, tmp_path), fe)


def test_features_follow_the_clip_frame_after_frame(kws_program):
    fe = AudioFrontEnd()
    speech = pcm_clips(fe)["speech"]
    shifted = np.roll(speech, -fe.hop_samples)  # one hop later: frames move up by one
    ours = c_features(kws_program, fe, np.stack([speech, shifted]))
    np.testing.assert_array_equal(ours[0, 1:-1], ours[1, :-2])


# --- what the generated code is made of ---------------------------------------------------


def test_sources_use_only_math_and_stdint_and_no_heap(tmp_path):
    folder = write_sources(AudioFrontEnd(), tmp_path)
    for name in (HEADER_FILE, SOURCE_FILE):
        text = (folder / name).read_text()
        includes = set(re.findall(r"#include\s+(\S+)", text))
        assert includes <= {'"audio_frontend.h"', "<math.h>", "<stdint.h>"}, includes
        assert not re.search(r"\b(malloc|calloc|new|std::|double)\b", text)
    for std in ("c++11", "c++17"):
        run([gpp(), f"-std={std}", "-fsyntax-only", *STRICT, str(folder / SOURCE_FILE)])


def float_array(text: str, name: str) -> np.ndarray:
    body = re.search(rf"\b{name}\[[^=]*= \{{(.*?)\}};", text, re.S).group(1)
    literals = re.findall(r"-?[\d.]+(?:e-?\d+)?f", body)
    return np.array([v.rstrip("f") for v in literals], dtype=np.float32)


def test_tables_are_exactly_the_float32_numpy_tables(tmp_path):
    fe = AudioFrontEnd()
    text = render_audio_frontend(fe)[SOURCE_FILE]
    tables = fe.tables()
    np.testing.assert_array_equal(float_array(text, "kWindow"), np.float32(tables.window))
    np.testing.assert_array_equal(float_array(text, "kDct"), np.float32(tables.dct).ravel())
    first, count, offset, weights = sparse_mel(tables.mel)
    np.testing.assert_array_equal(float_array(text, "kMelWeights"), np.float32(weights))
    dense = np.zeros_like(tables.mel)
    for band, (lo, n, at) in enumerate(zip(first, count, offset, strict=True)):
        dense[lo : lo + n, band] = weights[at : at + n]
    np.testing.assert_array_equal(dense, tables.mel)
    assert len(weights) < tables.mel.size / 15  # sparse: ~2 weights per bin in 20..4000 Hz
