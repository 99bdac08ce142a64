"""Shared fixtures: small generated data, written fresh into each test's tmp_path."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def write_image(path, size=(12, 10), mode="RGB", value=0):
    """Writes a small image with a class-dependent pattern; returns the path."""
    from PIL import Image

    rng = np.random.default_rng(value)
    shape = (size[1], size[0]) if mode == "L" else (size[1], size[0], 3)
    pixels = rng.integers(0, 60, size=shape, dtype=np.uint8) + np.uint8(value * 60)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels, mode=mode).save(path)
    return path


@pytest.fixture
def image_folder(tmp_path):
    """Two classes, three formats, mixed colour modes and sizes."""
    root = tmp_path / "images"
    for cls, label in enumerate(("cat", "dog")):
        for i, suffix in enumerate((".png", ".jpg", ".bmp", ".png", ".png")):
            mode = "L" if i == 3 else "RGB"
            write_image(root / label / f"{i}{suffix}", size=(12 + i, 10), mode=mode, value=cls)
    return root


@pytest.fixture
def sensor_csv(tmp_path):
    """Three activities, four recordings each, 3 channels at 50 Hz."""
    from edgecnn.training.data.synthetic import make_sensor_csv

    return make_sensor_csv(tmp_path / "imu.csv", samples_per_recording=200)
