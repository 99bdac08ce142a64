"""The keyword set's sound: generated background noise (white, pink, brown, mains hum and fan)
and one word made into a clip (trimmed, random gain and offset, noise at a random SNR)."""

from __future__ import annotations

import numpy as np

from edgecnn.core.wav import resample

NOISE_SECONDS = 10.0  # also the longest clip: its noise is one slice of a recording
PEAK = (0.3, 0.9)  # speech peak after the random gain
SNR_DB = (5.0, 30.0)
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


def make_clip(
    raw: np.ndarray,
    *,
    raw_rate: int,
    rate_hz: int,
    clip_ms: int,
    rng: np.random.Generator,
    noises: dict[str, np.ndarray] | None,
) -> tuple[np.ndarray, bool]:
    """One clip: trimmed word, random gain and offset, optional noise at a random SNR.

    Each of ``noises`` must be at least a clip long. Returns the float32 clip (``clip_ms``
    long at ``rate_hz``) and whether the word was cut.
    """
    word = resample(trim_silence(raw), from_hz=raw_rate, to_hz=rate_hz).astype(np.float64)
    word *= rng.uniform(*PEAK) / max(float(np.max(np.abs(word))), 1e-9)
    n = rate_hz * clip_ms // 1000
    cut = len(word) > n
    if cut:  # keep the onset; a 10 ms fade avoids a click at the cut
        fade = min(n, rate_hz // 100)
        word = word[:n]
        word[n - fade:] *= np.linspace(1.0, 0.0, fade)
    clip = np.zeros(n)
    offset = int(rng.integers(0, n - len(word) + 1))
    clip[offset:offset + len(word)] = word
    kinds = sorted(NOISE_FILES)  # drawn even without noise: the same gains and offsets either way
    kind, start = kinds[int(rng.integers(len(kinds)))], rng.random()
    snr_db = rng.uniform(*SNR_DB)
    if noises is not None:
        piece = noises[kind][int(start * (len(noises[kind]) - n + 1)):][:n].astype(np.float64)
        speech_rms = float(np.sqrt(np.mean(word**2)))
        piece_rms = max(float(np.sqrt(np.mean(piece**2))), 1e-12)
        clip += piece * speech_rms / (piece_rms * 10 ** (snr_db / 20))
    peak = float(np.max(np.abs(clip)))
    if peak > 0.99:
        clip *= 0.99 / peak
    return clip.astype(np.float32), cut


def trim_silence(samples: np.ndarray, *, threshold: float = 0.01, margin: int = 220) -> np.ndarray:
    """``samples`` without the leading and trailing stretches below ``threshold`` x peak
    (``margin`` samples kept either side)."""
    loud = np.flatnonzero(np.abs(samples) > threshold * float(np.max(np.abs(samples))))
    if loud.size == 0:
        return samples
    return samples[max(0, loud[0] - margin):loud[-1] + 1 + margin]
