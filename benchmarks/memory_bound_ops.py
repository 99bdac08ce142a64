"""Memory-bound ops in the Linux cost model: do estimates keep MobileNetV3 in proportion?

Not a test. MobileNetV3 (hard-swish activations, squeeze-excite blocks) is built of
element-wise, activation and pooling ops whose time goes with the bytes they move. No
published Pi figure for it exists in boards/, so this checks ratios instead: each model's
latency relative to MobileNetV2 (the published points' model), measured here side by side
in LiteRT (alternating rounds, 2 threads; x86, so only the ratios carry over), against the
ratio the rpi-4b estimate gives with the bytes-moved term and without it (bytes_per_cycle
set so high the term vanishes, as before this term existed). Weights are random
(``weights=None``): latency does not depend on them.

Run: ``.venv/bin/python benchmarks/memory_bound_ops.py [--rounds 7]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

import numpy as np

from edgecnn.core.modes import Mode
from edgecnn.device.bench import sample_input, timed_invokes
from edgecnn.device.interpreter import TFLiteModel
from edgecnn.optimize.convert import convert
from edgecnn.targets.costmodel import load_coefficients
from edgecnn.targets.estimate import estimate
from edgecnn.training import tfdeps

BOARD = "rpi-4b"
RUNS = 10


def models() -> dict:
    keras = tfdeps.keras()
    shape = (224, 224, 3)
    return {
        "mobilenet_v2": lambda: keras.applications.MobileNetV2(weights=None, input_shape=shape),
        "mobilenet_v3_small": lambda: keras.applications.MobileNetV3Small(
            weights=None, input_shape=shape, include_preprocessing=False),
        "mobilenet_v3_large": lambda: keras.applications.MobileNetV3Large(
            weights=None, input_shape=shape, include_preprocessing=False),
    }


def convert_all(folder: Path) -> dict[tuple[str, str], Path]:
    calibration = np.random.default_rng(0).random((8, 224, 224, 3), dtype=np.float32)
    paths = {}
    for name, build in models().items():
        model = build()
        for mode in (Mode.FP32, Mode.INT8):
            path = folder / f"{name}-{mode.value}.tflite"
            path.write_bytes(convert(model, mode, calibration=calibration))
            paths[(name, mode.value)] = path
    return paths


def measured_ms(paths: list[Path], rounds: int) -> list[float]:
    """Median over alternating rounds of each model's median invoke time."""
    loaded = [TFLiteModel(p, threads=2) for p in paths]
    samples = [sample_input(m) for m in loaded]
    per_round = [[] for _ in loaded]
    for _ in range(rounds):
        for k, (model, sample) in enumerate(zip(loaded, samples, strict=True)):
            per_round[k].append(float(np.median(timed_invokes(model, sample, RUNS))))
    return [float(np.median(r)) for r in per_round]


def estimated_ms(path: Path, *, memory_term: bool) -> float:
    coefficients = load_coefficients()
    if not memory_term:
        families = {k: dict(v) for k, v in coefficients.families.items()}
        families["linux"]["bytes_per_cycle"] = 1e30
        coefficients = dataclasses.replace(coefficients, families=families)
    return estimate(path, boards=[BOARD], coefficients=coefficients)[0].latency_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = convert_all(Path(tmp))
        print(f"{'model':<20}{'dtype':<6}{'here ms':>9}{'ratio':>7}   {BOARD} estimate ms "
              f"(ratio) with bytes term / without")
        for dtype in ("fp32", "int8"):
            names = [n for n, d in paths if d == dtype]
            here = measured_ms([paths[(n, dtype)] for n in names], args.rounds)
            with_term = [estimated_ms(paths[(n, dtype)], memory_term=True) for n in names]
            without = [estimated_ms(paths[(n, dtype)], memory_term=False) for n in names]
            for k, name in enumerate(names):
                print(f"{name:<20}{dtype:<6}{here[k]:>9.2f}{here[k] / here[0]:>7.2f}   "
                      f"{with_term[k]:>7.2f} ({with_term[k] / with_term[0]:.2f}) / "
                      f"{without[k]:>7.2f} ({without[k] / without[0]:.2f})")


if __name__ == "__main__":
    main()
