"""Helpers every test folder shares: the repository's paths and scripts loaded as modules.

Tests sit one folder below tests/ (tests/device/, tests/export/, ...), so they find the
fixtures and the repository through these constants instead of their own ``__file__``.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
BENCHMARKS = REPO / "benchmarks"


def write_image(path: Path, size=(12, 10), mode="RGB", value=0) -> Path:
    """Writes a small image with a class-dependent pattern; returns the path."""
    from PIL import Image

    rng = np.random.default_rng(value)
    shape = (size[1], size[0]) if mode == "L" else (size[1], size[0], 3)
    pixels = rng.integers(0, 60, size=shape, dtype=np.uint8) + np.uint8(value * 60)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels, mode=mode).save(path)
    return path


@contextmanager
def script_module(script: Path, name: str) -> Iterator[ModuleType]:
    """A script of benchmarks/ (not a package) imported as module ``name`` while in use."""
    spec = importlib.util.spec_from_file_location(name, script)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while being built
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(name, None)


def accuracy_of(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Top-1 accuracy of class probabilities against integer labels."""
    return float(np.mean(np.argmax(probabilities, axis=-1) == np.asarray(labels)))


def assert_learned(losses: list[float], accuracy: float, classes: int) -> None:
    """Training lowered the loss, and the model beats chance (by half again) on its own
    training data: a smoke test that a finite loss alone would not make."""
    assert losses[-1] < losses[0], f"the loss did not fall: {losses}"
    chance = 1 / classes
    assert accuracy > 1.5 * chance, f"training accuracy {accuracy:.2f}, chance {chance:.2f}"
