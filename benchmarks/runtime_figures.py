"""Runtime figures for the issue note: loop overhead, start-up time, peak RSS.

Not a test. Side by side in one process (alternating rounds):
- the ``edgecnn run`` loop (npz replay source, no sink) per window, and
- a bare ``set_tensor`` / ``invoke`` / ``get_tensor`` loop on the same model and inputs,
for the committed tiny digits model and for an int8 resnet8 (32x32x3, ~12.5M MACs), with
float32 raw samples (sensor windows: the general path) and uint8 ones (camera frames and
image files: the table path).
Then the wall time from starting ``edgecnn run`` to its first result line, and that
process's peak RSS. Run: ``.venv/bin/python benchmarks/runtime_figures.py``.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from edgecnn.device.loop import run
from edgecnn.device.preflight import RunOptions
from edgecnn.device.runner import Runner

ROUNDS, WINDOWS = 15, 2000
FIXTURE = Path(__file__).parents[1] / "tests" / "fixtures" / "digits-lenet5-int8.tflite"


def bare_per_window_ms(runner: Runner, raw: np.ndarray) -> float:
    """The hand-written loop: inputs already quantized, timings around the three calls."""
    model = runner.model
    inputs = [model.quantize_input(runner.preprocessing.apply(r)[np.newaxis]) for r in raw]
    interpreter = model.interpreter
    started = time.perf_counter()
    for x in inputs:
        interpreter.set_tensor(model.input_index, x)
        interpreter.invoke()
        interpreter.get_tensor(model.output_index)
    return 1000 * (time.perf_counter() - started) / len(inputs)


def loop_per_window_ms(model: Path, replay: Path) -> float:
    summary = run(
        str(model),
        source=f"replay:{replay}",
        sinks=(),
        options=RunOptions(rate_hz=0, threads=1),
        log=lambda _l: None,
    )
    # Steady state: the first window pays the new interpreter's one-off set-up (XNNPACK packs
    # the weights on the first invoke), which the warmed bare loop does not; start-up is
    # measured on its own below.
    return 1000 * (summary.seconds - summary.first_result_s) / (summary.windows - 1)


def raw_samples(runner: Runner, dtype: str) -> np.ndarray:
    """Random raw samples in the model's raw units (e.g. 0..16 for digits, 0..255 for
    8-bit images): float32 like sensor windows, or uint8 like camera frames and images."""
    rng = np.random.default_rng(0)
    top = 1 / runner.preprocessing.scale
    if dtype == "uint8":
        return rng.integers(0, int(min(top, 255)) + 1, (WINDOWS, *runner.input_shape), np.uint8)
    return (rng.uniform(0, 1, (WINDOWS, *runner.input_shape)) * top).astype(np.float32)


def compare(name: str, model: Path, folder: Path, dtype: str = "float32") -> dict:
    runner = Runner(model, threads=1)
    raw = raw_samples(runner, dtype)
    replay = folder / f"{name}-{dtype}.npz"
    np.savez(replay, x=raw)
    loop, bare = [], []
    for _ in range(ROUNDS):
        loop.append(loop_per_window_ms(model, replay))
        bare.append(bare_per_window_ms(runner, raw))
    loop_ms, bare_ms = float(np.median(loop)), float(np.median(bare))
    # Each round's two loops ran back to back: the median of their ratios shrugs off a
    # neighbour's burst of load better than the ratio of the medians does.
    ratios = np.asarray(loop) / np.asarray(bare)
    return {
        "model": name,
        "raw": dtype,
        "loop_ms_per_window": round(loop_ms, 5),
        "bare_ms_per_window": round(bare_ms, 5),
        "ratio": round(float(np.median(ratios)), 3),
        "ratio_range": [round(float(ratios.min()), 3), round(float(ratios.max()), 3)],
        "overhead_us_per_window": round(1000 * (loop_ms - bare_ms), 1),
    }


def startup(model: Path, replay: Path) -> dict:
    edgecnn = str(Path(sys.executable).with_name("edgecnn"))
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            edgecnn,
            "run",
            str(model),
            "--source",
            f"replay:{replay}",
            "--rate",
            "0",
            "--max-windows",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    proc.stdout.readline()
    first = time.perf_counter() - started
    proc.wait()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return {
        "model": model.name,
        "start_to_first_result_s": round(first, 3),
        "peak_rss_mib": round(peak / 2**20, 1),
    }


def resnet8_int8(folder: Path) -> Path:
    """An int8 resnet8 bundle made through the real train -> quantize path (tiny data)."""
    from edgecnn.optimize.quantize import quantize
    from edgecnn.training.train import train
    from edgecnn.training.trainconfig import TrainConfig

    images = np.random.default_rng(0).integers(0, 255, (60, 32, 32, 3), dtype=np.uint8)
    data = folder / "images.npz"
    np.savez(data, x=images, y=np.arange(60) % 3)
    train(
        TrainConfig(data=str(data), model="resnet8", epochs=1),
        out=folder / "run",
        log=lambda _l: None,
    )
    (variant,) = quantize(folder / "run", modes=["int8"]).variants
    return Path(variant.path)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        lenet = compare("digits-lenet5-int8", FIXTURE, folder)
        # First child process of this script, so RUSAGE_CHILDREN's peak is edgecnn run's.
        print(json.dumps(startup(FIXTURE, folder / "digits-lenet5-int8-float32.npz")), flush=True)
        print(json.dumps(lenet), flush=True)
        print(json.dumps(compare("digits-lenet5-int8", FIXTURE, folder, "uint8")), flush=True)
        resnet = resnet8_int8(folder)
        for dtype in ("float32", "uint8"):
            print(json.dumps(compare("resnet8-int8", resnet, folder, dtype)), flush=True)


if __name__ == "__main__":
    main()
