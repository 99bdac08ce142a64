"""The demo's second half: held-out test samples replayed through ``edgecnn run`` with a
pipeline's variant, checked prediction by prediction against the pipeline's own evaluation
of the same samples.

Two kinds of replay, one code path: the first test samples as one ``replay:`` .npz file
(sensor windows, images), or test clips spread over the split written as WAV files in
class folders and read through ``--source dir:`` (audio).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np

from edgecnn.core import fileio
from edgecnn.core.errors import RunFailedError
from edgecnn.core.records import Record
from edgecnn.core.wav import write_wav
from edgecnn.pipeline.result import PipelineResult, VariantReport


class ReplayKind(StrEnum):
    """How the held-out samples reach the runtime."""

    SAMPLES = "samples"  # the first N test samples, one replay:FILE.npz
    CLIPS = "clips"  # N test clips spread over the split, WAV files read with dir:


@dataclass(frozen=True)
class ReplayCheck(Record):
    """The runtime replay of test samples against the pipeline's own evaluation of them."""

    model: str
    samples: int
    replay_correct: int
    pipeline_correct: int
    same_predictions: bool
    seconds: float


def replay_chosen(
    result: PipelineResult,
    *,
    kind: ReplayKind = ReplayKind.SAMPLES,
    samples: int,
    rate_hz: float = 0.0,
    sink: str | None = None,
    log: Callable[[str], None],
) -> ReplayCheck:
    """Replays the chosen variant (or, when none met the budgets, the most accurate one that
    runs on every board), as :func:`replay_test_split`."""
    variant = result.chosen_variant or _most_accurate_runnable(result)
    if result.chosen_variant is None:
        log(f"demo: no variant met the budgets; replaying the most accurate, {variant.name}")
    return replay_test_split(
        result, variant, kind=kind, samples=samples, rate_hz=rate_hz, sink=sink, log=log
    )


def _most_accurate_runnable(result: PipelineResult) -> VariantReport:
    runnable = [v for v in result.variants if all(b.fits for b in v.boards)] or result.variants
    return max(runnable, key=lambda v: v.val_accuracy)  # chosen on validation, as the pipeline


def replay_test_split(
    result: PipelineResult,
    variant: VariantReport,
    *,
    kind: ReplayKind = ReplayKind.SAMPLES,
    samples: int,
    rate_hz: float = 0.0,
    sink: str | None = None,
    log: Callable[[str], None],
) -> ReplayCheck:
    """Replays up to ``samples`` test samples through ``edgecnn run`` and checks it predicts
    exactly what the pipeline's evaluation predicted for the same samples.

    Args:
        kind: the samples as one .npz, or as WAV clips in class folders.
        rate_hz: replay pace (0: as fast as possible).
        sink: where the runtime prints its predictions (``text`` for people; None: nowhere).

    Raises:
        RunFailedError: the replay disagreed with the pipeline's evaluation (a bug).
    """
    from edgecnn.training.rundir import RunDir, load_labels, load_split_arrays

    family = result.family_of(variant)  # its own training run holds its test split
    folder = Path(result.folder)
    run_dir = RunDir(Path(family.run_dir if family else result.run_dir))
    arrays, labels = load_split_arrays(run_dir), load_labels(run_dir)
    write, what = _WRITERS[ReplayKind(kind)]
    source, order = write(folder, arrays, labels, samples, run_dir)
    log(f"demo: replaying {len(order)} {what} through edgecnn run with {variant.name}")
    summary, replayed = _run_replay(variant, source, folder / "replay.jsonl", rate_hz, sink, log)
    truth = arrays.y["test"][order]
    return _check_replay(folder, variant, truth, labels, summary, replayed, order)


def _write_samples(folder: Path, arrays, labels: list[str], wanted: int, run_dir):
    """The first test samples as a ``replay:`` source file; the source and their indices."""
    n = min(wanted, len(arrays.y["test"]))
    replay = folder / "replay-test.npz"
    fileio.write_with(
        replay,
        lambda p: np.savez(p, x=arrays.x["test"][:n], y=arrays.y["test"][:n], labels=labels),
    )
    return f"replay:{replay}", np.arange(n)


def _write_clips(folder: Path, arrays, labels: list[str], wanted: int, run_dir):
    """``replay-clips/<label>/<index>.wav`` for test clips spread over the split, in a fresh
    folder; the ``dir:`` source and the test indices in the order the runtime reads them."""
    from edgecnn.device.io.audio import wav_files_in_order
    from edgecnn.training.rundir import load_preprocessing

    x, y = arrays.x["test"], arrays.y["test"]
    rate = int(load_preprocessing(run_dir).audio.sample_rate_hz)
    root = folder / "replay-clips"
    if root.exists():
        shutil.rmtree(root)  # a smaller replay must not find an earlier one's clips
    index_of = {}
    for index in _spread(len(y), wanted):
        path = root / labels[int(y[index])] / f"{index:05d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_wav(path, x[index], sample_rate_hz=rate)  # 16-bit grid clips: lossless
        index_of[path] = int(index)
    order = [index_of[p] for p in wav_files_in_order(root)]
    return f"dir:{root}", np.asarray(order, dtype=np.int64)


def _spread(total: int, wanted: int) -> np.ndarray:
    """``wanted`` test indices spread evenly over the split (it is grouped by class)."""
    return np.unique(np.linspace(0, total - 1, min(wanted, total)).round().astype(np.int64))


# Each kind's writer and how the progress line names what it replays.
_WRITERS = {
    ReplayKind.SAMPLES: (_write_samples, "held-out test samples"),
    ReplayKind.CLIPS: (_write_clips, "held-out clips (WAV files)"),
}


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
    from edgecnn.device.loop import run
    from edgecnn.device.preflight import RunOptions

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
    order: np.ndarray,
) -> ReplayCheck:
    """The replay against the pipeline's evaluation of the same samples (``order``: the test
    indices in the order the replay saw them).

    Raises:
        RunFailedError: they disagree on a prediction or on the number correct.
    """
    from edgecnn.pipeline.evaluation import held_out_predictions

    n = len(truth)
    predicted = held_out_predictions(folder, variant.name)[order]
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
