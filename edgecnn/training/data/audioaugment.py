"""Audio augmentation for training: on the waveform, then SpecAugment on the features.

``timeshift`` (fraction of the clip, zeros fill the gap), ``gain`` (dB up or down),
``bgnoise`` (background noise mixed in at a signal-to-noise ratio drawn from
``[amount, amount + BGNOISE_SPREAD_DB]`` dB, into ``BGNOISE_SHARE`` of the clips; white
noise when the data has no ``_background_noise_`` folder), then ``timemask`` and
``freqmask`` (SpecAugment: one run of up to ``amount`` of the frames or feature bins set to
zero, the training mean after normalization). Never part of the saved model.
"""

from __future__ import annotations

import numpy as np

from edgecnn.core.preprocess import Preprocessing
from edgecnn.training.data.augment import AugmentSpec

BGNOISE_SHARE = 0.8
BGNOISE_SPREAD_DB = 20.0


class AudioAugment:
    """Turns a batch of raw clips into augmented model input.

    Args:
        pre: the model's preprocessing (with its audio front end).
        spec: the augmentations and amounts.
        background: background noise at the front end's rate, or None.
    """

    def __init__(
        self, pre: Preprocessing, spec: AugmentSpec, background: np.ndarray | None
    ) -> None:
        self.pre, self.amounts = pre, spec.to_dict()
        self.background = background

    def __call__(self, raw: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        clips = np.array(raw, dtype=np.float32, copy=True)
        if "timeshift" in self.amounts:
            clips = _shift(clips, self.amounts["timeshift"], rng)
        if "gain" in self.amounts:
            decibels = rng.uniform(-1, 1, size=(len(clips), 1)) * self.amounts["gain"]
            clips *= (10.0 ** (decibels / 20.0)).astype(np.float32)
        if "bgnoise" in self.amounts:
            clips += self._noise(clips, self.amounts["bgnoise"], rng)
        features = self.pre.apply(np.clip(clips, -1.0, 1.0))
        for name, axis in (("timemask", 1), ("freqmask", 2)):
            if name in self.amounts:
                _mask(features, axis, self.amounts[name], rng)
        return features

    def _noise(self, clips: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
        """Noise per clip scaled to a random SNR; zero for the clips left clean or silent."""
        count, length = clips.shape
        noise = self._slices(count, length, rng)
        signal_rms = np.sqrt(np.mean(np.square(clips), axis=1, keepdims=True))
        noise_rms = np.sqrt(np.mean(np.square(noise), axis=1, keepdims=True)) + 1e-12
        snr = rng.uniform(snr_db, snr_db + BGNOISE_SPREAD_DB, size=(count, 1))
        scale = signal_rms / noise_rms / (10.0 ** (snr / 20.0))
        scale *= (rng.random((count, 1)) < BGNOISE_SHARE) & (signal_rms > 0)
        return (noise * scale).astype(np.float32)

    def _slices(self, count: int, length: int, rng: np.random.Generator) -> np.ndarray:
        background = self.background
        if background is None or len(background) < length:
            return rng.standard_normal((count, length)).astype(np.float32)
        starts = rng.integers(0, len(background) - length + 1, size=count)
        return np.stack([background[s : s + length] for s in starts])


def _shift(clips: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Each clip moved by up to ``fraction`` of its length; zeros fill (no wrap-around)."""
    length = clips.shape[1]
    limit = int(round(fraction * length))
    if not limit:
        return clips
    out = np.zeros_like(clips)
    for i, shift in enumerate(rng.integers(-limit, limit + 1, size=len(clips))):
        if shift >= 0:
            out[i, shift:] = clips[i, : length - shift]
        else:
            out[i, :shift] = clips[i, -shift:]
    return out


def _mask(features: np.ndarray, axis: int, fraction: float, rng: np.random.Generator) -> None:
    """Zeroes one run of up to ``fraction`` of ``axis`` (frames or bins) in every sample."""
    size = features.shape[axis]
    for i in range(len(features)):
        width = int(rng.integers(0, int(fraction * size) + 1))
        if width:
            start = int(rng.integers(0, size - width + 1))
            index = [i, slice(None), slice(None)]
            index[axis] = slice(start, start + width)
            features[tuple(index)] = 0.0
