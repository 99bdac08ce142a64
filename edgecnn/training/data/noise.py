"""Generated background noise for the keyword set: white, pink, brown, mains hum and fan."""

from __future__ import annotations

import numpy as np

NOISE_SECONDS = 10.0
NOISE_FILES = {
    "white": "white_noise.wav", "pink": "pink_noise.wav", "brown": "brown_noise.wav",
    "hum": "mains_hum.wav", "fan": "fan_noise.wav",
}


def make_noises(*, rate_hz: int, seconds: float, seed: int) -> dict[str, np.ndarray]:
    """Long noise recordings (RMS 0.1): white, pink (1/f power), brown (1/f^2), 50 Hz mains
    hum with harmonics, and a fan (band noise around a random centre plus blade tones)."""
    rng = np.random.default_rng([seed, 2])
    n = int(rate_hz * seconds)
    t = np.arange(n) / rate_hz
    f = np.maximum(np.fft.rfftfreq(n, 1 / rate_hz), 20.0)

    def shaped(gain: np.ndarray) -> np.ndarray:
        return np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) * gain, n)

    def tones(base: float, count: int) -> np.ndarray:
        phases = rng.uniform(0, 2 * np.pi, count)
        return sum(np.sin(2 * np.pi * base * k * t + phases[k - 1]) / k
                   for k in range(1, count + 1))

    centre = rng.uniform(300, 900)
    fan = shaped(np.exp(-np.log(f / centre) ** 2 / 0.5)) * (1 + 0.3 * np.sin(2 * np.pi * 0.7 * t))
    fan = fan / np.std(fan) + 0.5 * tones(rng.uniform(80, 160), 4)
    raw = {
        "white": rng.standard_normal(n),
        "pink": shaped(1 / np.sqrt(f)),
        "brown": shaped(1 / f),
        "hum": tones(50.0, 8) + 0.05 * rng.standard_normal(n),
        "fan": fan,
    }
    return {kind: _level(x) for kind, x in raw.items()}


def _level(x: np.ndarray) -> np.ndarray:
    x = x * (0.1 / np.sqrt(np.mean(x**2)))
    return (x * min(1.0, 0.99 / float(np.max(np.abs(x))))).astype(np.float32)
