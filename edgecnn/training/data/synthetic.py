"""Small generated datasets for tests, benchmarks and examples (no downloads)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from edgecnn.core import fileio

DEFAULT_ACTIVITIES = ("idle", "walk", "shake")


def sensor_signal(
    activity: int,
    *,
    samples: int,
    channels: int,
    rate_hz: float,
    rng: np.random.Generator,
    noise: float = 0.25,
) -> np.ndarray:
    """An IMU-like recording: class-specific frequency and amplitude plus Gaussian noise."""
    t = np.arange(samples) / rate_hz
    freq = 0.5 + 2.0 * activity
    amplitude = 0.2 + 0.6 * activity
    phases = rng.uniform(0, 2 * np.pi, size=channels)
    wave = amplitude * np.sin(2 * np.pi * freq * t[:, None] + phases)
    return wave + rng.normal(0.0, noise, size=(samples, channels)) + 0.1 * np.arange(channels)


def make_sensor_csv(
    path: str | Path,
    *,
    activities: tuple[str, ...] = DEFAULT_ACTIVITIES,
    recordings_per_class: int = 4,
    samples_per_recording: int = 300,
    channels: int = 3,
    rate_hz: float = 50.0,
    noise: float = 0.25,
    seed: int = 0,
) -> Path:
    """Writes a sensor CSV with columns time, segment, label, ax, ay, ... (atomically)."""
    rng = np.random.default_rng(seed)
    names = ["ax", "ay", "az", "gx", "gy", "gz"][:channels] or ["ch0"]
    names += [f"ch{i}" for i in range(len(names), channels)]
    rows = []
    for rec in range(recordings_per_class):
        for act, label in enumerate(activities):
            data = sensor_signal(
                act, samples=samples_per_recording, channels=channels, rate_hz=rate_hz, rng=rng,
                noise=noise,
            )
            segment = f"{label}-{rec}"
            for i, values in enumerate(data):
                rows.append([f"{i / rate_hz:.4f}", segment, label, *(f"{v:.5f}" for v in values)])
    path = Path(path)

    def write(tmp: Path) -> None:
        with tmp.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["time", "segment", "label", *names])
            writer.writerows(rows)

    fileio.write_with(path, write)
    return path


def make_easy_images(path: Path, per_class: int = 40) -> Path:
    """Writes an ``.npz`` of dark and bright 8x8 images: two classes any model separates
    within an epoch (for tests and smoke runs)."""
    rng = np.random.default_rng(0)
    dark = rng.integers(0, 60, size=(per_class, 8, 8), dtype=np.uint8)
    bright = rng.integers(180, 256, size=(per_class, 8, 8), dtype=np.uint8)
    y = np.repeat(np.array(["dark", "bright"]), per_class)

    def write(tmp: Path) -> None:
        with tmp.open("wb") as handle:
            np.savez(handle, x=np.concatenate([dark, bright]), y=y)

    fileio.write_with(Path(path), write)
    return Path(path)
