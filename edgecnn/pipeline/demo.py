"""The embedded-default demo: the whole pipeline on scikit-learn's digits (shipped offline),
then part of the held-out test split replayed through ``edgecnn run`` with the chosen model.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecnn import pipeline
from edgecnn.core import fileio
from edgecnn.core.console import to_stderr
from edgecnn.core.errors import RunFailedError
from edgecnn.core.records import Record
from edgecnn.pipeline.result import PipelineResult, VariantReport

# vgg_tiny reaches ~98% on the digits test split in about 20 s on two CPU cores. At 8x8
# the unpruned int8 model is estimated above 50 ms on the Nano 33 BLE Sense, so the
# budgets make the pipeline trade a little accuracy (pruning) for microcontroller speed.
DEMO_CONFIG = {
    "data": "builtin:digits",
    "model": "vgg_tiny",
    "prune_ratios": [0.0, 0.25, 0.5],
    "modes": ["fp32", "dynamic", "int8"],
    "boards": ["rpi-zero-2w", "arduino-nano-33-ble-sense"],
    "budgets": {"max_latency_ms": 50, "max_arena_kb": 64, "max_accuracy_drop": 0.02},
}
REPLAY_SAMPLES = 60


@dataclass(frozen=True)
class ReplayCheck(Record):
    """The runtime replay of test samples against the pipeline's own evaluation of them."""

    model: str
    samples: int
    replay_correct: int
    pipeline_correct: int
    same_predictions: bool
    seconds: float


@dataclass(frozen=True)
class DemoResult:
    """The pipeline's result and the replay check."""

    pipeline: PipelineResult
    replay: ReplayCheck

    def to_dict(self) -> dict:
        return {"pipeline": self.pipeline.to_dict(), "replay": self.replay.to_dict()}


def run_demo(
    *,
    out: str | Path | None = None,
    samples: int = REPLAY_SAMPLES,
    rate_hz: float = 0.0,
    sink: str | None = "text",
    log: Callable[[str], None] | None = None,
) -> DemoResult:
    """Runs the pipeline on ``builtin:digits`` into ``out`` (default ``runs/demo``), then
    replays the first ``samples`` test samples through the runtime with the chosen model.

    Args:
        out: the pipeline folder; a second demo into the same folder reuses every step.
        samples: test samples to replay.
        rate_hz: replay pace (0: as fast as possible).
        sink: where the runtime prints its predictions (``text`` for people; None: nowhere).
        log: where progress lines go; default stderr.

    Raises:
        RunFailedError: the replay disagreed with the pipeline's evaluation (a bug).
    """
    log = log or to_stderr
    result = run_demo_pipeline(out=out, log=log)
    return DemoResult(result, replay_demo_model(result, samples, rate_hz, sink, log))


def run_demo_pipeline(
    *, out: str | Path | None = None, log: Callable[[str], None] | None = None
) -> PipelineResult:
    """The demo's first half: the pipeline on ``builtin:digits`` (default ``runs/demo``)."""
    return pipeline.run(DEMO_CONFIG, out=out or Path("runs") / "demo", log=log)


def replay_demo_model(
    result: PipelineResult,
    samples: int,
    rate_hz: float,
    sink: str | None,
    log: Callable[[str], None],
) -> ReplayCheck:
    """The demo's second half: replays the chosen variant (or, when none met the budgets,
    the most accurate one that runs on every board)."""
    variant = result.chosen_variant or _most_accurate_runnable(result)
    if result.chosen_variant is None:
        log(f"demo: no variant met the budgets; replaying the most accurate, {variant.name}")
    return replay_test_split(result, variant, samples, rate_hz, sink, log)


def _most_accurate_runnable(result: PipelineResult) -> VariantReport:
    runnable = [v for v in result.variants if all(b.fits for b in v.boards)] or result.variants
    return max(runnable, key=lambda v: v.val_accuracy)  # chosen on validation, as the pipeline


def replay_test_split(
    result: PipelineResult,
    variant: VariantReport,
    samples: int,
    rate_hz: float,
    sink: str | None,
    log: Callable[[str], None],
) -> ReplayCheck:
    """Replays test samples through ``edgecnn run`` and checks it predicts exactly what the
    pipeline's evaluation predicted for the same samples."""
    from edgecnn.training.rundir import RunDir, load_labels, load_split_arrays

    family = result.family_of(variant)  # its own training run holds its test split
    folder = Path(result.folder)
    run_dir = RunDir(Path(family.run_dir if family else result.run_dir))
    arrays, labels = load_split_arrays(run_dir), load_labels(run_dir)
    n = min(samples, len(arrays.y["test"]))
    replay = _write_replay(folder, arrays, labels, n)
    log(f"demo: replaying {n} held-out test samples through edgecnn run with {variant.name}")
    summary, replayed = _run_replay(
        variant, f"replay:{replay}", folder / "replay.jsonl", rate_hz, sink, log
    )
    return _check_replay(folder, variant, arrays.y["test"][:n], labels, summary, replayed)


def _write_replay(folder: Path, arrays, labels: list[str], n: int) -> Path:
    """The first ``n`` test samples as a ``replay:`` source file."""
    replay = folder / "replay-test.npz"
    fileio.write_with(
        replay,
        lambda p: np.savez(p, x=arrays.x["test"][:n], y=arrays.y["test"][:n], labels=labels),
    )
    return replay


def _run_replay(
    variant: VariantReport,
    source: str,
    seen: Path,
    rate_hz: float,
    sink: str | None,
    log: Callable[[str], None],
):
    """Runs the runtime on a recorded source; its summary and the label of each prediction
    (read back from the ``seen`` JSON lines it wrote)."""
    from edgecnn.device.loop import RunOptions, run

    seen.unlink(missing_ok=True)  # the jsonl sink appends: start from an empty file
    summary = run(
        variant.path,
        source=source,
        sinks=[s for s in (sink, f"jsonl:{seen}") if s],
        options=RunOptions(rate_hz=rate_hz),
        log=log,
    )
    return summary, [json.loads(line)["label"] for line in seen.read_text().splitlines()]


def _check_replay(
    folder: Path,
    variant: VariantReport,
    truth,
    labels: list[str],
    summary,
    replayed: list[str],
    *,
    order: np.ndarray | None = None,
) -> ReplayCheck:
    """The replay against the pipeline's evaluation of the same samples (``order``: the test
    indices in the order the replay saw them, when not the first ``len(truth)``).

    Raises:
        RunFailedError: they disagree on a prediction or on the number correct.
    """
    from edgecnn.pipeline.evaluation import held_out_predictions

    n = len(truth)
    predicted = held_out_predictions(folder, variant.name)
    predicted = predicted[:n] if order is None else predicted[order]
    check = ReplayCheck(
        model=variant.path,
        samples=n,
        replay_correct=summary.correct,
        pipeline_correct=int(np.sum(truth == predicted)),
        same_predictions=replayed == [labels[i] for i in predicted],
        seconds=summary.seconds,
    )
    if not check.same_predictions or check.replay_correct != check.pipeline_correct:
        raise RunFailedError(
            f"the runtime replay disagrees with the pipeline's evaluation of {variant.name}: "
            f"{check.replay_correct}/{n} vs {check.pipeline_correct}/{n} correct"
        )
    return check
