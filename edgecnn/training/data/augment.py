"""Training-only augmentation in numpy: never part of the saved model.

Spec syntax: a comma list of ``name[=amount]``, e.g. ``shift=0.1,zoom,rotate=15,noise=0.02``
for images or ``jitter=0.05,scale,timeshift,magwarp`` for sensor windows (``magwarp``: each
channel times a smooth random gain curve, standard deviation ``amount`` around 1); audio
clips have their own (``timeshift,gain,bgnoise,timemask,freqmask``, see ``audioaugment``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgecnn.core.errors import BadInputError
from edgecnn.core.preprocess import DataKind
from edgecnn.core.shapes import parse_list

# name -> default amount; the amount's meaning is in the docstring of each transform.
IMAGE_AUGMENTS = {
    "shift": 0.1,
    "zoom": 0.1,
    "rotate": 10.0,
    "hflip": 1.0,
    "vflip": 1.0,
    "noise": 0.02,
}
SENSOR_AUGMENTS = {"jitter": 0.05, "scale": 0.1, "timeshift": 0.1, "magwarp": 0.2}
# applied by audioaugment.AudioAugment (waveform, then features), listed here with the others
AUDIO_AUGMENTS = {"timeshift": 0.1, "gain": 6.0, "bgnoise": 10.0, "timemask": 0.1, "freqmask": 0.2}
# Amounts are fractions (at most 1) except these: degrees, and audio decibels.
AMOUNT_LIMITS = {"rotate": 180.0, "gain": 24.0, "bgnoise": 60.0}
MAGWARP_KNOTS = 4  # a smooth gain curve: a few random knots over the window


@dataclass(frozen=True)
class AugmentSpec:
    """Which augmentations to apply and how strongly."""

    amounts: tuple[tuple[str, float], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.amounts)

    def to_dict(self) -> dict[str, float]:
        """``{name: amount}``."""
        return dict(self.amounts)


def available(kind: DataKind) -> dict[str, float]:
    """The augmentations that make sense for a kind of data, with default amounts."""
    if kind == DataKind.AUDIO:
        return AUDIO_AUGMENTS
    return IMAGE_AUGMENTS if kind == DataKind.IMAGE else SENSOR_AUGMENTS


def parse_augment(text: str | None, kind: DataKind) -> AugmentSpec:
    """Parses ``"shift=0.1,noise"`` against the augmentations allowed for ``kind``."""
    if not text or text.strip().lower() == "none":
        return AugmentSpec()
    allowed = available(kind)
    amounts = []
    for item in parse_list(text):
        name, _, value = item.partition("=")
        name = name.strip().lower()
        if name not in allowed:
            raise BadInputError(
                f"augmentation {name!r} does not apply to {kind} data; "
                f"choose from {', '.join(allowed)}"
            )
        amounts.append((name, _amount(name, value, allowed[name])))
    return AugmentSpec(tuple(amounts))


def _amount(name: str, value: str, default: float) -> float:
    if not value:
        return default
    try:
        amount = float(value)
    except ValueError:
        raise BadInputError(f"augmentation {name}={value!r}: the amount must be a number") from None
    limit = AMOUNT_LIMITS.get(name, 1.0)
    if not 0 <= amount <= limit:
        raise BadInputError(f"augmentation {name}={amount} is out of range (0 to {limit:g})")
    return amount


def augment_batch(x: np.ndarray, spec: AugmentSpec, rng: np.random.Generator) -> np.ndarray:
    """Returns an augmented float32 copy of a batch of model inputs."""
    out = np.array(x, dtype=np.float32, copy=True)
    amounts = spec.to_dict()
    geometric = {k: amounts[k] for k in ("shift", "zoom", "rotate") if k in amounts}
    if geometric:
        out = np.stack([_affine(img, geometric, rng) for img in out])
    if "hflip" in amounts:
        flip = rng.random(len(out)) < 0.5
        out[flip] = out[flip][:, :, ::-1]
    if "vflip" in amounts:
        flip = rng.random(len(out)) < 0.5
        out[flip] = out[flip][:, ::-1]
    if "timeshift" in amounts:
        out = np.stack([_roll(w, amounts["timeshift"], rng) for w in out])
    if "magwarp" in amounts:
        out *= _gain_curves(out.shape, amounts["magwarp"], rng)
    if "scale" in amounts:
        out *= rng.normal(1.0, amounts["scale"], size=(len(out), 1, out.shape[-1]))
    for noise in ("noise", "jitter"):
        if noise in amounts:
            out += rng.normal(0.0, amounts[noise], size=out.shape).astype(np.float32)
    return out.astype(np.float32, copy=False)


def _affine(img: np.ndarray, amounts: dict[str, float], rng: np.random.Generator) -> np.ndarray:
    """Random shift (fraction of size), zoom (fraction) and rotation (degrees) of HxWxC."""
    from scipy import ndimage

    height, width = img.shape[:2]
    angle = np.deg2rad(rng.uniform(-1, 1) * amounts.get("rotate", 0.0))
    zoom = 1.0 + rng.uniform(-1, 1) * amounts.get("zoom", 0.0)
    shift = rng.uniform(-1, 1, size=2) * amounts.get("shift", 0.0) * np.array([height, width])
    cos, sin = np.cos(angle) / zoom, np.sin(angle) / zoom
    matrix = np.array([[cos, -sin], [sin, cos]])
    centre = np.array([(height - 1) / 2, (width - 1) / 2])
    offset = centre - matrix @ (centre + shift)
    channels = [
        ndimage.affine_transform(img[..., c], matrix, offset=offset, order=1, mode="nearest")
        for c in range(img.shape[-1])
    ]
    return np.stack(channels, axis=-1)


def _gain_curves(shape: tuple[int, ...], sigma: float, rng: np.random.Generator) -> np.ndarray:
    """(N, T, C) gains, linear between random knots spread evenly over each window."""
    count, steps, channels = shape[0], shape[1], shape[-1]
    knots = rng.normal(1.0, sigma, size=(count, MAGWARP_KNOTS, channels))
    at = np.linspace(0, MAGWARP_KNOTS - 1, steps)
    low = np.minimum(at.astype(int), MAGWARP_KNOTS - 2)
    frac = (at - low)[None, :, None]
    curves = knots[:, low] * (1 - frac) + knots[:, low + 1] * frac
    return curves.reshape((count, steps) + (1,) * (len(shape) - 3) + (channels,))


def _roll(window: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    limit = int(round(fraction * len(window)))
    return np.roll(window, int(rng.integers(-limit, limit + 1)), axis=0) if limit else window
