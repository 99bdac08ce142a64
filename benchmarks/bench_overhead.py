"""``edgecnn benchmark`` p50 against a bare ``interpreter.invoke()`` loop, side by side.

Not a test. Alternates rounds of the two on the same model in one process, for a tiny model
(the committed digits lenet5 int8) and an int8 resnet8 at 32x32x3 (~12.5M MACs).
Run: ``.venv/bin/python benchmarks/bench_overhead.py``.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np

from edgecnn.core.modes import Mode
from edgecnn.device.bench import benchmark
from edgecnn.device.interpreter import interpreter_class
from edgecnn.optimize.convert import convert
from edgecnn.training.models.registry import build_model

ROUNDS, RUNS = 15, 300
FIXTURE = Path(__file__).parents[1] / "tests" / "fixtures" / "digits-lenet5-int8.tflite"


def bare_p50(path: Path) -> float:
    """The loop a user would write by hand: set the input once, time each invoke."""
    interpreter = interpreter_class()(model_path=str(path), num_threads=1)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], detail["dtype"]))
    times = np.empty(RUNS)
    for i in range(RUNS):
        started = time.perf_counter_ns()
        interpreter.invoke()
        times[i] = time.perf_counter_ns() - started
    return float(np.median(times)) / 1e6


def compare(name: str, path: Path) -> dict:
    ours, bare = [], []
    for _ in range(ROUNDS):
        ours.append(benchmark(path, threads=1, runs=RUNS, warmup=10).p50_ms)
        bare.append(bare_p50(path))
    ours_ms, bare_ms = float(np.median(ours)), float(np.median(bare))
    return {
        "model": name,
        "edgecnn_p50_ms": round(ours_ms, 5),
        "bare_p50_ms": round(bare_ms, 5),
        "ratio": round(ours_ms / bare_ms, 4),
        "overhead_us_per_invoke": round(1000 * (ours_ms - bare_ms), 3),
    }


def main() -> None:
    print(json.dumps(compare("digits lenet5 int8", FIXTURE)), flush=True)
    model = build_model("resnet8", input_shape=(32, 32, 3), num_classes=10, seed=0)
    calibration = np.random.default_rng(0).random((16, 32, 32, 3), dtype=np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "resnet8-int8.tflite"
        path.write_bytes(convert(model, Mode.INT8, calibration=calibration))
        print(json.dumps(compare("resnet8 int8 32x32x3", path)), flush=True)


if __name__ == "__main__":
    main()
