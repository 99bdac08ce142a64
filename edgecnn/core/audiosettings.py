"""Checks of the audio front end's settings, and its closed choices.

:class:`edgecnn.core.audiofeatures.AudioFrontEnd` holds the settings and computes the
features; what a valid setting is lives here, so that module stays about the arithmetic.
The enums are defined here and re-exported by :mod:`edgecnn.core.audiofeatures`.
"""

from __future__ import annotations

import dataclasses
import math
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np

from edgecnn.core.errors import BadInputError

if TYPE_CHECKING:
    from edgecnn.core.audiofeatures import AudioFrontEnd

MIN_RATE_HZ, MAX_RATE_HZ = 4000, 48000


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


def validate(fe: AudioFrontEnd) -> None:
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


def _check_types(fe: AudioFrontEnd) -> None:
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


def _check_ranges(fe: AudioFrontEnd) -> None:
    rate, nyquist = fe.sample_rate_hz, fe.sample_rate_hz / 2
    problems = [
        (
            not MIN_RATE_HZ <= rate <= MAX_RATE_HZ,
            f"sample rate {rate} Hz is outside {MIN_RATE_HZ}..{MAX_RATE_HZ} Hz",
        ),
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
    for bad, message in problems:
        if bad:
            raise BadInputError(f"audio front end: {message}")
