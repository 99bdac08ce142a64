"""The numpy audio front end against TensorFlow's tf.signal (the MLPerf Tiny KWS pipeline).

The reference is the tf.signal chain of the MLPerf Tiny keyword-spotting benchmark: stft
(periodic Hann, no padding), abs, linear_to_mel_weight_matrix, log(x + 1e-6),
mfccs_from_log_mel_spectrograms. TensorFlow computes in float32, the front end in float64.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from edgecnn.core import audiofeatures
from edgecnn.core.audiofeatures import AudioFrontEnd, FeatureKind, dct_matrix, mel_matrix
from edgecnn.core.errors import BadInputError

# TensorFlow computes in float32, whose rounding noise lies ~140 dB below a frame's peak.
# Recorded sound never has spectral valleys that deep, but a synthetic pure tone does: its
# valley bands' log-mel then carries TensorFlow's rounding noise (measured up to 3.4e-3;
# numpy's float64 is the closer one). Measured on every other clip: <= 5e-5.
TF_TOLERANCE = 1e-3
PURE_TONE_TOLERANCE = 1e-2


@pytest.fixture(scope="module")
def tf():
    import tensorflow

    return tensorflow


def tf_features(tf, fe: AudioFrontEnd, clips: np.ndarray) -> np.ndarray:
    """The MLPerf Tiny KWS front end in tf.signal, (n, frames, bins)."""
    stft = tf.signal.stft(
        tf.constant(clips, tf.float32),
        frame_length=fe.frame_samples,
        frame_step=fe.hop_samples,
        fft_length=fe.fft_size,
        window_fn=tf.signal.hann_window,  # periodic=True by default
    )
    spectrum = tf.abs(stft)
    if fe.spectrum == "power":
        spectrum = spectrum * spectrum
    mel = tf.signal.linear_to_mel_weight_matrix(
        fe.mel_bands, fe.fft_size // 2 + 1, fe.sample_rate_hz, fe.lower_hz, fe.upper_hz
    )
    log_mel = tf.math.log(tf.tensordot(spectrum, mel, 1) + fe.log_floor)
    if fe.feature == FeatureKind.LOG_MEL:
        return log_mel.numpy()
    return tf.signal.mfccs_from_log_mel_spectrograms(log_mel)[..., : fe.coefficients].numpy()


def make_clips(samples: int, rate: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Random noise, enveloped tones with noise, silence and a pure full-scale tone."""
    rng = np.random.default_rng(seed)
    t = np.arange(samples) / rate
    envelope = np.exp(-(((t - t[-1] / 2) / 0.15) ** 2))
    tones = sum(a * np.sin(2 * np.pi * f * t) for a, f in ((0.3, 440), (0.2, 1210), (0.1, 2900)))
    clips = {
        "full-scale noise": rng.uniform(-1, 1, samples),
        "quiet noise": 0.05 * rng.standard_normal(samples),
        "enveloped tones": envelope * tones + 0.003 * rng.standard_normal(samples),
        "silence": np.zeros(samples),
        "pure tone": np.sin(2 * np.pi * 1000 * t),
    }
    return {name: x.astype(np.float32) for name, x in clips.items()}


def compare_with_tf(tf, fe: AudioFrontEnd) -> None:
    clips = make_clips(fe.clip_samples, fe.sample_rate_hz)
    batch = np.stack(list(clips.values()))
    ours = fe.compute(batch)
    assert ours.shape == (len(clips), *fe.feature_shape) and ours.dtype == np.float32
    diffs = np.abs(ours[..., 0] - tf_features(tf, fe, batch)).max(axis=(1, 2))
    for name, diff in zip(clips, diffs, strict=True):
        print(f"{fe.feature}/{fe.spectrum} {fe.sample_rate_hz} Hz {name}: |numpy - tf| {diff:.1e}")
        assert diff < (PURE_TONE_TOLERANCE if name == "pure tone" else TF_TOLERANCE), name


def test_mfcc_matches_tf_signal(tf):
    compare_with_tf(tf, AudioFrontEnd())


def test_log_mel_matches_tf_signal(tf):
    compare_with_tf(tf, AudioFrontEnd(feature="log_mel"))


@pytest.mark.parametrize("feature", ["mfcc", "log_mel"])
def test_power_spectrum_matches_tf_signal(tf, feature):
    compare_with_tf(tf, AudioFrontEnd(spectrum="power", feature=feature))


def test_other_settings_match_tf_signal(tf):
    fe = AudioFrontEnd.from_ms(
        sample_rate_hz=8000,
        clip_ms=1500,
        window_ms=25,
        hop_ms=10,
        mel_bands=32,
        coefficients=13,
        lower_hz=0.0,
        upper_hz=4000.0,
    )
    assert (fe.frame_samples, fe.hop_samples, fe.fft_size) == (200, 80, 256)
    compare_with_tf(tf, fe)


def test_tables_match_tf_matrices(tf):
    fe = AudioFrontEnd()
    mel = tf.signal.linear_to_mel_weight_matrix(40, 257, 16000, 20.0, 4000.0).numpy()
    np.testing.assert_allclose(mel_matrix(fe), mel, atol=1e-5)  # TF's is float32 arithmetic
    assert not mel_matrix(fe)[0].any()  # HTK: the DC bin is excluded
    dct = tf.signal.mfccs_from_log_mel_spectrograms(tf.eye(40)).numpy()[:, :10]
    np.testing.assert_allclose(dct_matrix(40, 10), dct, atol=1e-6)
    window = tf.signal.hann_window(480, periodic=True).numpy()
    tables = fe.tables()
    np.testing.assert_allclose(tables.window, window, atol=5e-7)  # TF: float32 cos
    assert tables.mel.shape == (257, 40) and tables.dct.shape == (40, 10)
    assert AudioFrontEnd(feature="log_mel").tables().dct is None
    with pytest.raises(ValueError):
        tables.mel[1, 1] = 2.0  # cached, so read-only


# --- shapes and batching -----------------------------------------------------------------


def test_default_shape_is_the_kws_input():
    fe = AudioFrontEnd()
    assert (fe.frames, fe.bins, fe.feature_shape) == (49, 10, (49, 10, 1))
    assert AudioFrontEnd(feature="log_mel").feature_shape == (49, 40, 1)
    assert fe.compute(np.zeros(16000)).shape == (49, 10, 1)
    assert fe.compute(np.zeros((2, 3, 16000))).shape == (2, 3, 49, 10, 1)
    assert fe.compute(np.zeros((4, 16000, 1))).shape == (4, 49, 10, 1)
    assert fe.compute(np.zeros((0, 16000))).shape == (0, 49, 10, 1)


def test_batch_and_single_clips_are_identical(monkeypatch):
    fe = AudioFrontEnd()
    clips = np.stack(list(make_clips(16000, 16000, seed=3).values()))
    monkeypatch.setattr(audiofeatures, "_CHUNK_FFT_POINTS", 2 * 49 * 512)  # chunks of 2 clips
    batch = fe.compute(clips)
    for clip, features in zip(clips, batch, strict=True):
        np.testing.assert_array_equal(fe.compute(clip), features)


def test_int16_pcm_is_scaled_by_1_over_32768():
    fe = AudioFrontEnd()
    pcm = np.random.default_rng(1).integers(-32768, 32768, 16000).astype(np.int16)
    np.testing.assert_array_equal(fe.compute(pcm), fe.compute(pcm / 32768.0))


@pytest.mark.parametrize("shape", [(15999,), (2, 16001), (16000, 2), ()])
def test_wrong_clip_length_is_refused(shape):
    with pytest.raises(BadInputError, match="do not end with 16000 samples"):
        AudioFrontEnd().compute(np.zeros(shape))


# --- validation and the manifest dict ----------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sample_rate_hz": 3999}, "sample rate 3999 Hz is outside 4000..48000"),
        ({"sample_rate_hz": 48001, "upper_hz": 4000}, "outside 4000..48000"),
        ({"fft_size": 500}, "fft_size 500 must be a power of two >= frame_samples 480"),
        ({"fft_size": 256}, "fft_size 256 must be a power of two"),
        ({"lower_hz": -1.0}, "0 <= lower_hz < upper_hz <= 8000"),
        ({"lower_hz": 4000.0}, "mel edges 4000..4000 Hz"),
        ({"upper_hz": 8001.0}, "upper_hz <= 8000"),
        ({"coefficients": 41}, "coefficients 41 must be within 1..mel_bands \\(40\\)"),
        ({"coefficients": 0}, "coefficients 0"),
        ({"clip_samples": 479}, "clip_samples 479 is shorter than frame_samples 480"),
        ({"hop_samples": 0}, "hop_samples 0 must be at least 1"),
        ({"mel_bands": 0, "coefficients": 0}, "mel_bands 0 must be at least 1"),
        ({"log_floor": 0.0}, "log_floor 0 must be positive"),
        ({"feature": "mfc"}, "feature 'mfc' is unknown; known: mfcc, log_mel"),
        ({"spectrum": "db"}, "spectrum 'db' is unknown; known: magnitude, power"),
        ({"window_fn": "hamming"}, "window_fn 'hamming' is unknown; known: hann"),
        ({"mel_bands": 40.0}, "mel_bands must be an integer, got 40.0"),
        ({"fft_size": True}, "fft_size must be an integer, got True"),
        ({"upper_hz": "4000"}, "upper_hz must be a finite number, got '4000'"),
        ({"lower_hz": float("nan")}, "lower_hz must be a finite number"),
    ],
)
def test_bad_settings_are_refused_in_one_line(changes, message):
    with pytest.raises(BadInputError, match=message) as caught:
        AudioFrontEnd(**changes)
    assert "\n" not in str(caught.value)


def test_dict_round_trips_through_json():
    fe = AudioFrontEnd(feature=FeatureKind.LOG_MEL, spectrum="power", mel_bands=32, upper_hz=7600)
    data = json.loads(json.dumps(fe.to_dict()))
    assert data["feature"] == "log_mel" and type(fe.feature) is str
    assert AudioFrontEnd.from_dict(data) == fe
    assert AudioFrontEnd.from_dict({}) == AudioFrontEnd()  # missing keys take the defaults
    assert set(data) == {f.name for f in dataclasses.fields(AudioFrontEnd)}


def test_from_dict_refuses_unknown_keys_and_bad_values():
    with pytest.raises(BadInputError, match="unknown keys \\['window_ms'\\]"):
        AudioFrontEnd.from_dict({**AudioFrontEnd().to_dict(), "window_ms": 30})
    with pytest.raises(BadInputError, match="must be a JSON object"):
        AudioFrontEnd.from_dict([16000])
    with pytest.raises(BadInputError, match="sample_rate_hz must be an integer, got '16k'"):
        AudioFrontEnd.from_dict({"sample_rate_hz": "16k"})
    with pytest.raises(BadInputError, match="feature None is unknown"):
        AudioFrontEnd.from_dict({"feature": None})


def test_from_ms_gives_the_kws_defaults_and_the_next_power_of_two():
    assert (
        AudioFrontEnd.from_ms(sample_rate_hz=16000, clip_ms=1000, window_ms=30, hop_ms=20)
        == AudioFrontEnd()
    )
    fe = AudioFrontEnd.from_ms(sample_rate_hz=16000, clip_ms=1000, window_ms=40, hop_ms=20)
    assert (fe.frame_samples, fe.fft_size, fe.frames) == (640, 1024, 49)
    with pytest.raises(BadInputError, match="audio hop of 0.01 ms is under one sample"):
        AudioFrontEnd.from_ms(sample_rate_hz=16000, clip_ms=1000, window_ms=30, hop_ms=0.01)
    with pytest.raises(BadInputError, match="audio window of nan ms"):
        AudioFrontEnd.from_ms(sample_rate_hz=16000, clip_ms=1000, window_ms=math.nan, hop_ms=10)
