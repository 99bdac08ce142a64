"""The audio front end's settings: the record, its checks and its closed choices.

:class:`FrontEndSettings` holds the settings and what a valid setting is;
:class:`edgecnn.core.audiofeatures.AudioFrontEnd` builds on it and computes the features,
so that module stays about the arithmetic. The enums are defined here and re-exported by
:mod:`edgecnn.core.audiofeatures`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Self

import numpy as np

from edgecnn.core.errors import BadInputError
from edgecnn.core.records import Record
from edgecnn.core.shapes import MAX_INPUT_VALUES

MIN_RATE_HZ, MAX_RATE_HZ = 4000, 48000
# Bounds on the sizes a flag or a manifest can set, checked before any table or buffer is
# made. Generous for real use: keyword spotting takes 1 s clips, 512-point FFTs and 40 bands;
# music and sound-event models use up to 4096-point FFTs and 128-256 bands.
MAX_CLIP_S = 300  # a few minutes per model input; longer recordings stream through run
MAX_FFT_SIZE = 8192  # 170 ms windows at 48 kHz; also the largest window (frame_samples)
MAX_MEL_BANDS = 512  # the firmware export writes a table of fft_size / 2 + 1 rows per band
# One clip's STFT holds frames x fft_size float64 values, twice (frames, then spectrum):
# 2**23 points is 64 MiB each, e.g. 60 s at 48 kHz with 10 ms hops and 1024-point FFTs.
MAX_STFT_POINTS = 2**23


class FeatureKind(StrEnum):
    """What the front end outputs per frame."""

    MFCC = "mfcc"
    LOG_MEL = "log_mel"


class SpectrumKind(StrEnum):
    """What the mel filter bank weighs: the STFT magnitude or its square."""

    MAGNITUDE = "magnitude"
    POWER = "power"


class WindowFn(StrEnum):
    """The analysis window (periodic, as ``tf.signal``)."""

    HANN = "hann"


_INT_FIELDS = (
    "sample_rate_hz",
    "clip_samples",
    "frame_samples",
    "hop_samples",
    "fft_size",
    "mel_bands",
    "coefficients",
)
_FLOAT_FIELDS = ("lower_hz", "upper_hz", "log_floor")
_CHOICES = {"feature": FeatureKind, "spectrum": SpectrumKind, "window_fn": WindowFn}


def validate(fe: FrontEndSettings) -> None:
    """Checks a new front end and normalizes its fields in place (its ``__post_init__``).

    Raises:
        BadInputError: a value of the wrong type, an unknown choice or a value out of range.
    """
    _check_types(fe)
    for name, enum in _CHOICES.items():  # plain str: equal, hashable, JSON-ready
        object.__setattr__(fe, name, str(enum(getattr(fe, name))))
    _check_ranges(fe)


def check_keys(cls: type, data: Any) -> None:
    """Checks ``data`` is a mapping of the dataclass ``cls``'s fields (``from_dict``).

    Raises:
        BadInputError: not a mapping, or unknown keys.
    """
    if not isinstance(data, dict):
        raise BadInputError(f"audio front end must be a JSON object, got {data!r:.40}")
    known = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise BadInputError(f"audio front end has unknown keys {unknown}; known: {known}")


def is_number(value: Any) -> bool:
    """True for an int or float (numpy's too), False for a bool."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _check_types(fe: FrontEndSettings) -> None:
    for name in _INT_FIELDS:
        value = getattr(fe, name)
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise BadInputError(f"audio {name} must be an integer, got {value!r}")
        object.__setattr__(fe, name, int(value))
    for name in _FLOAT_FIELDS:
        value = getattr(fe, name)
        if not is_number(value) or not math.isfinite(value):
            raise BadInputError(f"audio {name} must be a finite number, got {value!r}")
        object.__setattr__(fe, name, float(value))
    for name, enum in _CHOICES.items():
        value = getattr(fe, name)
        if value not in [str(v) for v in enum]:
            raise BadInputError(
                f"audio {name} {value!r} is unknown; known: {', '.join(str(v) for v in enum)}"
            )


def _check_ranges(fe: FrontEndSettings) -> None:
    for bad, message in _size_bounds(fe) + _relations(fe):
        if bad:
            raise BadInputError(f"audio front end: {message}")


def _size_bounds(fe: FrontEndSettings) -> list[tuple[bool, str]]:
    """Each size against its own largest accepted value: checked before the relations, so
    a huge window is named as the window, not as a clip shorter than it."""
    rate = fe.sample_rate_hz
    if not MIN_RATE_HZ <= rate <= MAX_RATE_HZ:  # first: the other messages divide by it
        return [(True, f"sample rate {rate} Hz is outside {MIN_RATE_HZ}..{MAX_RATE_HZ} Hz")]
    return [
        (
            fe.clip_samples > MAX_CLIP_S * rate,
            f"clip_samples {fe.clip_samples} ({fe.clip_samples / rate:g} s at {rate} Hz) is over "
            f"the largest accepted {MAX_CLIP_S} s ({MAX_CLIP_S * rate} samples)",
        ),
        (
            fe.frame_samples > MAX_FFT_SIZE,
            f"frame_samples {fe.frame_samples} (the window) is over the largest accepted "
            f"{MAX_FFT_SIZE}",
        ),
        (fe.fft_size > MAX_FFT_SIZE, f"fft_size {fe.fft_size} is over the largest accepted "
                                     f"{MAX_FFT_SIZE}"),
        (fe.mel_bands > MAX_MEL_BANDS, f"mel_bands {fe.mel_bands} is over the largest accepted "
                                       f"{MAX_MEL_BANDS}"),
    ]


def _relations(fe: FrontEndSettings) -> list[tuple[bool, str]]:
    nyquist = fe.sample_rate_hz / 2
    problems = [
        (fe.frame_samples < 2, f"frame_samples {fe.frame_samples} must be at least 2"),
        (fe.hop_samples < 1, f"hop_samples {fe.hop_samples} must be at least 1"),
        (
            fe.clip_samples < fe.frame_samples,
            f"clip_samples {fe.clip_samples} is shorter than frame_samples {fe.frame_samples}",
        ),
        (
            fe.fft_size < fe.frame_samples or fe.fft_size & (fe.fft_size - 1),
            f"fft_size {fe.fft_size} must be a power of two >= frame_samples {fe.frame_samples}",
        ),
        (fe.mel_bands < 1, f"mel_bands {fe.mel_bands} must be at least 1"),
        (
            not 1 <= fe.coefficients <= fe.mel_bands,
            f"coefficients {fe.coefficients} must be within 1..mel_bands ({fe.mel_bands})",
        ),
        (
            not 0 <= fe.lower_hz < fe.upper_hz <= nyquist,
            f"mel edges {fe.lower_hz:g}..{fe.upper_hz:g} Hz must satisfy "
            f"0 <= lower_hz < upper_hz <= {nyquist:g} (half the sample rate)",
        ),
        (fe.log_floor <= 0, f"log_floor {fe.log_floor:g} must be positive"),
    ]
    return problems + _work_bounds(fe) if not any(bad for bad, _ in problems) else problems


def _work_bounds(fe: FrontEndSettings) -> list[tuple[bool, str]]:
    """What one clip costs: its STFT and its features (the model's input)."""
    points, values = fe.frames * fe.fft_size, fe.frames * fe.bins
    return [
        (
            points > MAX_STFT_POINTS,
            f"{fe.frames} frames x fft_size {fe.fft_size} = {points:,} STFT points per clip; "
            f"at most {MAX_STFT_POINTS:,} are accepted (a shorter clip, a longer hop or a "
            "smaller fft_size)",
        ),
        (
            values > MAX_INPUT_VALUES,
            f"{fe.frames} frames x {fe.bins} bins = {values:,} feature values per clip; a model "
            f"input holds at most {MAX_INPUT_VALUES:,}",
        ),
    ]


@dataclass(frozen=True)
class FrontEndSettings(Record):
    """Settings of the audio front end; MLPerf Tiny KWS defaults (16 kHz, 49x10 MFCC).

    Checked and normalized when made. :class:`edgecnn.core.audiofeatures.AudioFrontEnd`
    adds the arithmetic (tables and features) on top.

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

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Builds a front end from :meth:`to_dict` output; missing keys take the defaults.

        Raises:
            BadInputError: not a mapping, unknown keys, or a bad value.
        """
        check_keys(cls, data)
        return cls(**data)

    @classmethod
    def from_ms(
        cls, *, sample_rate_hz: int, clip_ms: float, window_ms: float, hop_ms: float, **rest: Any
    ) -> Self:
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
