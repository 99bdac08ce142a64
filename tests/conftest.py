"""Shared fixtures: small generated data, written fresh into each test's tmp_path."""

from __future__ import annotations

import os

import pytest

from tests.testkit import write_image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


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
