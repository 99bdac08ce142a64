"""Small audio the audio tests share: one 8 kHz front end, tones, a folder of WAV clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgecnn.core.audiofeatures import AudioFrontEnd
from edgecnn.core.wav import write_wav
from edgecnn.training.data.audio import BACKGROUND

RATE = 8000
# The front end of small_front_end() as a --audio-features spec (0.25 s clips: 14 x 8).
SMALL = "mfcc,rate=8000,window_ms=32,hop_ms=16,mel_bands=16,coefficients=8"
TONES = {"high": 1500.0, "low": 400.0, "mid": 900.0}


def small_front_end(clip_samples: int = 2000, **overrides) -> AudioFrontEnd:
    """8 kHz MFCC with 256-sample frames and FFT, hop 128, 16 mel bands, 8 coefficients."""
    settings = dict(
        sample_rate_hz=RATE, clip_samples=clip_samples, frame_samples=256, hop_samples=128,
        fft_size=256, mel_bands=16, coefficients=8,
    )  # fmt: skip
    return AudioFrontEnd(**(settings | overrides))


def tone(seconds: float, hz: float, seed: int = 0, rate: int = RATE) -> np.ndarray:
    """A sine at 0.4 of full scale with a little noise, float32."""
    t = np.arange(int(seconds * rate)) / rate
    noise = np.random.default_rng(seed).normal(0, 0.05, t.size)
    return (0.4 * np.sin(2 * np.pi * hz * t) + noise).astype(np.float32)


def make_clips(root: Path, *, speakers: int = 6, tones=TONES, seconds: float = 0.25) -> Path:
    """``root/<word>/s<k>_nohash_0.wav``: a tone burst per word, one clip per speaker."""
    rng = np.random.default_rng(0)
    n = int(RATE * seconds)
    for word, hz in tones.items():
        for k in range(speakers):
            length = n + int(rng.integers(-n // 4, n // 4))  # some short, some long clips
            t = np.arange(length) / RATE
            burst = np.sin(2 * np.pi * hz * (1 + 0.02 * k) * t) * np.hanning(length)
            clip = 0.5 * burst + 0.01 * rng.standard_normal(length)
            write_wav(root / word / f"s{k}_nohash_0.wav", clip, sample_rate_hz=RATE)
    noise = 0.1 * rng.standard_normal(RATE * 2)
    write_wav(root / BACKGROUND / "white.wav", noise, sample_rate_hz=RATE)
    return root
