"""On-device latency benchmark: LiteRT interpreter, real invokes, no TensorFlow.

On a Raspberry Pi this is the on-device benchmark; on the host it measures the host.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecnn.core.errors import BadInputError
from edgecnn.core.manifest import load_manifest, manifest_path
from edgecnn.core.records import Record
from edgecnn.device.interpreter import TFLiteModel


@dataclass(frozen=True)
class BenchResult(Record):
    """Latency statistics of one model on this machine (milliseconds)."""

    path: str
    size_bytes: int
    mode: str | None
    accuracy: float | None
    threads: int | None
    init_ms: float
    first_ms: float
    runs: int
    mean_ms: float
    std_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    min_ms: float
    max_ms: float
    inferences_per_s: float
    peak_rss_bytes: int


def benchmark(
    path: str | os.PathLike,
    *,
    threads: int | None = None,
    runs: int = 100,
    warmup: int = 10,
    input_shape: tuple[int, ...] | None = None,
) -> BenchResult:
    """Loads a .tflite, times its first inference, warms up, then times ``runs`` invokes.

    Args:
        input_shape: the sizes (without the batch) to run a dynamic-input model at.

    Raises:
        BadInputError: a missing or invalid model file, non-positive counts, a dynamic
            input without ``input_shape``.
    """
    if runs < 1 or warmup < 0:
        raise BadInputError(f"--runs ({runs}) must be >= 1 and --warmup ({warmup}) >= 0")
    path = Path(path)
    if not path.is_file():
        raise BadInputError(f"model file {path} does not exist")
    mode, accuracy = _from_manifest(path)
    started = time.perf_counter_ns()
    model = TFLiteModel(path, threads=threads, input_shape=input_shape)
    init_ms = (time.perf_counter_ns() - started) / 1e6
    sample = sample_input(model)
    times = timed_invokes(model, sample, 1 + warmup + runs)
    timed = times[1 + warmup :]
    return BenchResult(
        path=str(path),
        size_bytes=path.stat().st_size,
        mode=mode,
        accuracy=accuracy,
        threads=threads,
        init_ms=round(init_ms, 3),
        first_ms=_r(times[0]),
        runs=runs,
        mean_ms=_r(timed.mean()),
        std_ms=_r(timed.std()),
        p50_ms=_r(np.percentile(timed, 50)),
        p90_ms=_r(np.percentile(timed, 90)),
        p99_ms=_r(np.percentile(timed, 99)),
        min_ms=_r(timed.min()),
        max_ms=_r(timed.max()),
        inferences_per_s=round(float(1000.0 / timed.mean()), 1),
        peak_rss_bytes=peak_rss_bytes(),
    )


def sample_input(model: TFLiteModel, *, seed: int = 0) -> np.ndarray:
    """One random input in the model's input dtype, covering its value range."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(model.input.dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=model.input.shape, endpoint=True, dtype=dtype)
    return rng.standard_normal(model.input.shape).astype(dtype)


def timed_invokes(model: TFLiteModel, sample: np.ndarray, count: int) -> np.ndarray:
    """Milliseconds of each ``invoke()``; the input is set once, as a bare loop would."""
    interpreter = model.interpreter
    interpreter.set_tensor(model.input_index, sample)
    out = np.empty(count)
    clock = time.perf_counter_ns
    for i in range(count):
        started = clock()
        interpreter.invoke()
        out[i] = clock() - started
    return out / 1e6


def peak_rss_bytes() -> int:
    """Peak resident memory of this process so far."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)  # Linux reports KiB


def _from_manifest(path: Path) -> tuple[str | None, float | None]:
    if not manifest_path(path).exists():
        return None, None
    manifest = load_manifest(path)
    return manifest.variant.mode, manifest.metrics.get("accuracy")


def _r(value: float) -> float:
    return round(float(value), 6)
