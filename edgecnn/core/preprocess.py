"""The preprocessing a model was trained with, replayable on a device with numpy alone.

Raw samples (uint8 images already resized to the model input, or float sensor windows)
become model input as ``((raw * scale + offset) - mean) / std``, with ``mean`` and ``std``
per channel (the last axis). The same :class:`Preprocessing` is saved with a training run
and later in each model's manifest, so the device feeds the model exactly what training did.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np

from edgecnn.core.errors import BadInputError
from edgecnn.core.records import Record
from edgecnn.core.shapes import MAX_INPUT_VALUES, check_input_size

if TYPE_CHECKING:
    from edgecnn.core.audiofeatures import AudioFrontEnd


class DataKind(StrEnum):
    """What a sample is: an image, a window of sensor samples, an audio clip or an array."""

    IMAGE = "image"
    SENSOR = "sensor"
    ARRAY = "array"
    AUDIO = "audio"


@dataclass(frozen=True)
class Preprocessing(Record):
    """Everything needed to turn raw samples into model input.

    Attributes:
        kind: the kind of sample.
        input_shape: the model input shape of one sample, e.g. ``(8, 8, 1)`` or ``(128, 6)``.
        scale: multiplies the raw values first (e.g. 1/255 for 8-bit images).
        offset: added after scaling.
        mean: per-channel mean subtracted after scaling, or None.
        std: per-channel standard deviation divided by, or None.
        color_mode: ``"grayscale"`` or ``"rgb"`` for images.
        resize: how images were resized to ``input_shape`` (e.g. ``"bilinear"``).
        channels: sensor channel (column) names, in model order.
        window: samples per window (sensors).
        hop: samples between window starts (sensors).
        sample_rate_hz: the sensor sample rate when known.
        label_column: the CSV column training read true labels from (None: ``label``).
        segment_column: the CSV column training read recording ids from (None: ``segment``
            when the CSV has one).
        audio: the audio front end (log-mel or MFCC) that turns a clip of ``window`` mono
            samples into the model input, before the scale/mean/std above (audio only).
    """

    kind: DataKind
    input_shape: tuple[int, ...]
    scale: float = 1.0
    offset: float = 0.0
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    color_mode: str | None = None
    resize: str | None = None
    channels: tuple[str, ...] | None = None
    window: int | None = None
    hop: int | None = None
    sample_rate_hz: float | None = None
    label_column: str | None = None
    segment_column: str | None = None
    audio: AudioFrontEnd | None = None

    def __post_init__(self) -> None:
        channels = self.input_shape[-1] if self.input_shape else None
        for name in ("mean", "std"):
            stats = getattr(self, name)
            if stats is not None and len(stats) != channels:
                raise BadInputError(
                    f"preprocessing {name} has {len(stats)} values; the input shape "
                    f"{tuple(self.input_shape)} has {channels} channels (its last axis)"
                )

    @property
    def raw_shape(self) -> tuple[int, ...]:
        """Shape of one raw sample: the model input, or one clip of mono audio samples."""
        return (self.audio.clip_samples,) if self.audio else tuple(self.input_shape)

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """Turns raw samples (one sample or a batch) into float32 model input."""
        # audio keeps its dtype: the front end scales int16 PCM by 1/32768
        x = np.asarray(raw) if self.audio else np.asarray(raw, dtype=np.float32)
        if self.audio and x.ndim and x.shape[-1] == 1 and x.shape[-2:-1] == self.raw_shape:
            x = x[..., 0]  # a (clip, 1) window of a one-channel stream
        if x.shape[-len(self.raw_shape) :] != self.raw_shape:
            what = "audio clip length" if self.audio else "model input shape"
            raise BadInputError(
                f"sample shape {x.shape} does not end with the {what} {self.raw_shape}"
            )
        return self.transform(self.audio.compute(x) if self.audio else x)

    def transform(self, x: np.ndarray) -> np.ndarray:
        """The elementwise part of :meth:`apply`, without the shape check.

        Each value depends only on itself and its channel (the last axis), so a table of
        every possible raw value (the runtime's 8-bit fast path) gets exactly what
        :meth:`apply` would give.
        """
        x = np.asarray(x, dtype=np.float32) * np.float32(self.scale)  # a new array: the
        x += np.float32(self.offset)  # rest works in place (same values, fewer copies)
        if self.mean is not None:
            x -= np.asarray(self.mean, dtype=np.float32)
        if self.std is not None:
            x /= np.asarray(self.std, dtype=np.float32)
        return x

    def with_stats(self, mean: np.ndarray, std: np.ndarray) -> Preprocessing:
        """Returns a copy with per-channel normalization statistics."""
        safe_std = np.where(np.asarray(std) > 1e-8, std, 1.0)
        return dataclasses.replace(
            self,
            mean=tuple(float(v) for v in mean),
            std=tuple(float(v) for v in safe_std),
        )

    @classmethod
    def from_dict(cls, data: Any) -> Preprocessing:
        """Builds a Preprocessing from :meth:`to_dict` output (read back from a file).

        Raises:
            BadInputError: not a mapping, unknown keys, an unknown kind, or a value of the
                wrong type or range (each would otherwise fail later, mid-run).
        """
        if not isinstance(data, dict):
            raise BadInputError(f"preprocessing must be a JSON object, got {data!r:.40}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise BadInputError(f"preprocessing has unknown keys {unknown}; known: {sorted(known)}")
        if "input_shape" not in data:
            raise BadInputError("preprocessing has no input_shape, e.g. [32, 3]")
        kinds = [str(k) for k in DataKind]
        if data.get("kind") not in kinds:
            raise BadInputError(
                f"preprocessing kind {data.get('kind')!r} is unknown; known: {', '.join(kinds)}"
            )
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        audio = values.pop("audio", None)
        for name, value in values.items():
            _check_value(name, value)
        values["kind"] = DataKind(values["kind"])
        _check_window(values)
        if audio is not None or values["kind"] == DataKind.AUDIO:
            values["audio"] = _read_audio(audio, values)
        return cls(**values)


_COUNTS = ("window", "hop")


def _check_value(name: str, value: Any) -> None:
    """Refuses one field of a read-back preprocessing whose type or range cannot work."""
    if name == "input_shape":
        ok = bool(value) and isinstance(value, tuple) and all(_count(v) for v in value)
        want = "a list of positive integers, e.g. [32, 3]"
        if ok:
            check_input_size(value)  # the same bound as every other input shape
    elif name in ("mean", "std"):
        ok = value is None or (isinstance(value, tuple) and all(_number(v) for v in value))
        ok = ok and (name == "mean" or value is None or min(value, default=1) > 0)
        want = "null or a list of finite numbers (std: positive)"
    elif name == "channels":
        ok = value is None or (isinstance(value, tuple) and all(isinstance(v, str) for v in value))
        want = "null or a list of column names"
    elif name in _COUNTS:  # a window is (part of) one input: the input shapes' bound
        ok = value is None or (_count(value) and value <= MAX_INPUT_VALUES)
        want = f"null or a positive integer, at most {MAX_INPUT_VALUES:,}"
    elif name == "sample_rate_hz":
        ok = value is None or (_number(value) and value > 0)
        want = "null or a number above 0"
    elif name in ("scale", "offset"):
        ok, want = _number(value), "a finite number"
    else:
        ok, want = name == "kind" or value is None or isinstance(value, str), "null or a text"
    if not ok:
        raise BadInputError(f"preprocessing {name} must be {want}; got {value!r:.60}")


def _check_window(values: dict[str, Any]) -> None:
    """A sensor model's window, hop and channels must agree with its input shape."""
    channels = values.get("channels")
    if not channels:
        return
    window, hop = values.get("window"), values.get("hop")
    if window is None or hop is None or tuple(values["input_shape"]) != (window, len(channels)):
        raise BadInputError(
            f"preprocessing with channels {list(channels)} needs window and hop, and an input "
            f"shape [window, {len(channels)}]; got window {window}, hop {hop}, input_shape "
            f"{list(values['input_shape'])}"
        )


def _read_audio(data: Any, values: dict[str, Any]) -> AudioFrontEnd:
    """The front end of an audio model; it must produce the input shape, clip and rate."""
    from edgecnn.core.audiofeatures import AudioFrontEnd

    if values["kind"] != DataKind.AUDIO:
        raise BadInputError(
            f"preprocessing of kind {values['kind']} has an audio front end; only models of "
            "kind audio have one"
        )
    if not isinstance(data, dict):
        raise BadInputError(
            f"preprocessing is of kind audio but has no audio front end object (got "
            f"{data!r:.40}); re-run edgecnn quantize on the audio training run"
        )
    front = AudioFrontEnd.from_dict(data)
    expected = {
        "input_shape": front.feature_shape,
        "window": front.clip_samples,
        "sample_rate_hz": front.sample_rate_hz,
    }
    for name, want in expected.items():
        got = values.get(name)
        if got != want and not (name == "sample_rate_hz" and got == float(want)):
            what = "features of shape" if name == "input_shape" else name
            raise BadInputError(
                f"preprocessing's audio front end gives {what} {want!r} but its {name} is {got!r}"
            )
    return front


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _number(value: Any) -> bool:
    return (
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    )


def channel_stats(x: np.ndarray, *, scale: float, offset: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (last axis) mean and std of ``x * scale + offset``, in float64."""
    scaled = np.asarray(x, dtype=np.float64) * scale + offset
    flat = scaled.reshape(-1, scaled.shape[-1])
    return flat.mean(axis=0), flat.std(axis=0)
