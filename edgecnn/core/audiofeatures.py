"""The audio front end: clips of waveform -> log-mel or MFCC features, in numpy.

One implementation serves training, the Pi runtime and (through :meth:`AudioFrontEnd.tables`)
the C front end of the Arduino export, so training and serving cannot drift. It reproduces
the ``tf.signal`` pipeline of the MLPerf Tiny keyword-spotting benchmark: STFT with a
periodic Hann window and no padding, ``|X|`` (or ``|X|**2``), the HTK mel filter bank of
``tf.signal.linear_to_mel_weight_matrix`` (DC bin excluded), ``log(mel + log_floor)``, and
``tf.signal.mfccs_from_log_mel_spectrograms`` (unnormalized DCT-II / sqrt(2 * bands)).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgecnn.core.audiosettings import (
    MAX_RATE_HZ,
    MIN_RATE_HZ,
    FeatureKind,
    SpectrumKind,
    WindowFn,
    check_keys,
    is_number,
    validate,
)
from edgecnn.core.errors import BadInputError
from edgecnn.core.records import Record

__all__ = [
    "MAX_RATE_HZ",
    "MIN_RATE_HZ",
    "AudioFrontEnd",
    "FeatureKind",
    "FrontEndTables",
    "SpectrumKind",
    "WindowFn",
    "dct_matrix",
    "frame_features",
    "mel_matrix",
]

# FFT points per chunk of compute(): 2**21 (83 one-second clips at the defaults, ~16 MiB of
# float64 frames and as much spectrum) bounds memory for any batch; larger chunks measured
# slower (out of cache), smaller ones pay numpy's per-call overhead.
_CHUNK_FFT_POINTS = 1 << 21


@dataclass(frozen=True)
class FrontEndTables:
    """The constant tables of a front end: float32 values held in float64, read-only.

    Attributes:
        window: (frame_samples,) analysis window.
        mel: (fft_size // 2 + 1, mel_bands) filter bank; row 0 (DC) is zero.
        dct: (mel_bands, coefficients) DCT-II matrix for MFCC, None for log-mel.
    """

    window: np.ndarray
    mel: np.ndarray
    dct: np.ndarray | None


@dataclass(frozen=True)
class AudioFrontEnd(Record):
    """Settings of the audio front end; MLPerf Tiny KWS defaults (16 kHz, 49x10 MFCC).

    Attributes:
        sample_rate_hz: samples per second of the waveform.
        clip_samples: raw samples per model input.
        frame_samples: analysis window length.
        hop_samples: samples between frame starts.
        fft_size: FFT length, a power of two >= frame_samples (frames are zero-padded).
        mel_bands: triangular mel filters.
        feature: a :class:`FeatureKind` value.
        coefficients: MFCCs kept (mfcc only).
        lower_hz: lower edge of the first mel band.
        upper_hz: upper edge of the last mel band.
        spectrum: a :class:`SpectrumKind` value.
        log_floor: added before the log so silence stays finite.
        window_fn: a :class:`WindowFn` value.
    """

    sample_rate_hz: int = 16000
    clip_samples: int = 16000
    frame_samples: int = 480
    hop_samples: int = 320
    fft_size: int = 512
    mel_bands: int = 40
    feature: str = "mfcc"
    coefficients: int = 10
    lower_hz: float = 20.0
    upper_hz: float = 4000.0
    spectrum: str = "magnitude"
    log_floor: float = 1e-6
    window_fn: str = "hann"

    def __post_init__(self) -> None:
        validate(self)

    @property
    def frames(self) -> int:
        """Frames per clip (no padding at the end, as ``tf.signal.stft``)."""
        return 1 + (self.clip_samples - self.frame_samples) // self.hop_samples

    @property
    def bins(self) -> int:
        """Values per frame: the MFCCs kept, or the mel bands."""
        return self.coefficients if self.feature == FeatureKind.MFCC else self.mel_bands

    @property
    def feature_shape(self) -> tuple[int, int, int]:
        """The features of one clip: (frames, bins, 1)."""
        return (self.frames, self.bins, 1)

    def tables(self) -> FrontEndTables:
        """The window, mel and DCT tables (cached; the arrays are read-only)."""
        return _tables(self)

    def compute(self, waveforms: Any) -> np.ndarray:
        """Features of one clip or a batch, as float32 (..., frames, bins, 1).

        Args:
            waveforms: (..., clip_samples) or (..., clip_samples, 1) samples in [-1, 1];
                int16 PCM is scaled by 1/32768 first, other numbers are taken as they are.

        Raises:
            BadInputError: the last axis is not clip_samples long.
        """
        x = _as_clips(self, waveforms)
        lead = x.shape[:-1]
        flat = x.reshape(-1, self.clip_samples)
        out = np.empty((flat.shape[0], self.frames, self.bins), dtype=np.float32)
        step = max(1, _CHUNK_FFT_POINTS // (self.frames * self.fft_size))
        for start in range(0, flat.shape[0], step):
            out[start : start + step] = _features(self, flat[start : start + step])
        return out.reshape(*lead, self.frames, self.bins, 1)

    @classmethod
    def from_dict(cls, data: Any) -> AudioFrontEnd:
        """Builds a front end from :meth:`to_dict` output; missing keys take the defaults.

        Raises:
            BadInputError: not a mapping, unknown keys, or a bad value.
        """
        check_keys(cls, data)
        return cls(**data)

    @classmethod
    def from_ms(
        cls, *, sample_rate_hz: int, clip_ms: float, window_ms: float, hop_ms: float, **rest: Any
    ) -> AudioFrontEnd:
        """A front end from durations; fft_size defaults to the next power of two."""
        sizes = {}
        for name, ms in (("clip", clip_ms), ("window", window_ms), ("hop", hop_ms)):
            finite = is_number(ms) and math.isfinite(ms)
            samples = round(float(ms) * sample_rate_hz / 1000) if finite else 0
            if samples < 1:
                raise BadInputError(
                    f"audio {name} of {ms!r} ms is under one sample at {sample_rate_hz} Hz; "
                    f"give a positive duration"
                )
            sizes[name] = samples
        rest.setdefault("fft_size", 1 << (sizes["window"] - 1).bit_length())
        return cls(
            sample_rate_hz=sample_rate_hz,
            clip_samples=sizes["clip"],
            frame_samples=sizes["window"],
            hop_samples=sizes["hop"],
            **rest,
        )


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    return 1127.0 * np.log1p(np.asarray(hz, dtype=np.float64) / 700.0)


def mel_matrix(fe: AudioFrontEnd) -> np.ndarray:
    """The filter bank of ``tf.signal.linear_to_mel_weight_matrix``, in float64."""
    spectrum_bins = fe.fft_size // 2 + 1
    hz = np.linspace(0.0, fe.sample_rate_hz / 2, spectrum_bins)[1:]  # HTK: no DC bin
    mel = _hz_to_mel(hz)[:, None]
    edges = np.linspace(_hz_to_mel(fe.lower_hz), _hz_to_mel(fe.upper_hz), fe.mel_bands + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (mel - lower) / (center - lower)
    falling = (upper - mel) / (upper - center)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return np.vstack([np.zeros((1, fe.mel_bands)), weights])


def dct_matrix(bands: int, coefficients: int) -> np.ndarray:
    """(bands, coefficients): ``tf.signal.mfccs_from_log_mel_spectrograms`` as a matmul."""
    n = np.arange(bands)[:, None]
    k = np.arange(coefficients)[None, :]
    return 2.0 * np.cos(np.pi * k * (2 * n + 1) / (2 * bands)) / math.sqrt(2.0 * bands)


@functools.lru_cache(maxsize=16)
def _tables(fe: AudioFrontEnd) -> FrontEndTables:
    n = np.arange(fe.frame_samples)
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * n / fe.frame_samples)  # periodic Hann
    dct = dct_matrix(fe.mel_bands, fe.coefficients) if fe.feature == FeatureKind.MFCC else None
    return FrontEndTables(
        window=_float32_exact(window), mel=_float32_exact(mel_matrix(fe)), dct=_float32_exact(dct)
    )


def _float32_exact(table: np.ndarray | None) -> np.ndarray | None:
    """The table rounded to float32 (held in float64, read-only).

    The C front end holds float32 constants and TensorFlow builds its tables in float32:
    with the very same numbers here, only the arithmetic differs between the paths (which
    matters for a pure tone, whose spectral valleys lie ~1e-7 below its peak).
    """
    if table is None:
        return None
    out = table.astype(np.float32).astype(np.float64)
    out.setflags(write=False)
    return out


def _as_clips(fe: AudioFrontEnd, waveforms: Any) -> np.ndarray:
    x = np.asarray(waveforms)
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise BadInputError(f"audio samples must be numbers, got dtype {x.dtype}")
    if x.ndim >= 2 and x.shape[-1] == 1 and x.shape[-2] == fe.clip_samples:
        x = x[..., 0]
    if x.ndim == 0 or x.shape[-1] != fe.clip_samples:
        raise BadInputError(
            f"audio clips of shape {x.shape} do not end with {fe.clip_samples} samples "
            f"(clip_samples at {fe.sample_rate_hz} Hz); pad or cut the clips first"
        )
    return x


def frame_features(fe: AudioFrontEnd, samples: np.ndarray, count: int) -> np.ndarray:
    """Features (count, bins) of the first ``count`` frames of a 1-D run of samples.

    The frames of :meth:`AudioFrontEnd.compute`, one by one: a stream whose windows
    overlap needs only its newest frames computed (the runtime's streaming front end).
    """
    need = (count - 1) * fe.hop_samples + fe.frame_samples
    segment = np.asarray(samples)[np.newaxis, :need]
    if segment.shape[1] < need:
        raise BadInputError(f"{count} frames need {need} samples, got {segment.shape[1]}")
    return _features(fe, segment, count)[0]


def _features(fe: AudioFrontEnd, clips: np.ndarray, count: int | None = None) -> np.ndarray:
    """(n, samples) -> (n, frames, bins) float32; float64 inside, as the reference."""
    count = fe.frames if count is None else count
    tables = fe.tables()
    lo, hi = _mel_rows(fe)
    x = np.ascontiguousarray(clips, dtype=np.float64)
    if clips.dtype == np.int16:  # scaled chunk by chunk: a big batch is not copied whole
        x /= 32768.0
    frames = np.lib.stride_tricks.sliding_window_view(x, fe.frame_samples, axis=-1)
    padded = np.zeros((x.shape[0], count, fe.fft_size))
    np.multiply(
        frames[:, :: fe.hop_samples][:, :count],
        tables.window,
        out=padded[..., : fe.frame_samples],
    )
    # only the bins some mel band weighs: about half of them for 20..4000 Hz at 16 kHz
    spectrum = np.abs(np.fft.rfft(padded, axis=-1)[..., lo:hi])
    if fe.spectrum == SpectrumKind.POWER:
        spectrum *= spectrum
    features = np.log(spectrum @ tables.mel[lo:hi] + fe.log_floor)
    if tables.dct is not None:
        features = features @ tables.dct
    return features.astype(np.float32)


@functools.lru_cache(maxsize=16)
def _mel_rows(fe: AudioFrontEnd) -> tuple[int, int]:
    """The range of spectrum bins with a nonzero mel weight (at least one bin)."""
    used = np.flatnonzero(fe.tables().mel.any(axis=1))
    return (int(used[0]), int(used[-1]) + 1) if used.size else (0, 1)
