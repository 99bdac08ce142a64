"""Several models benchmarked side by side, here or over ssh, with board estimates beside.

What ``edgecnn benchmark`` shows: one measured row per model (:mod:`edgecnn.device.bench`
here, :mod:`edgecnn.targets.remote` on another machine) and, per board asked for, the cost
model's latency and whether the model fits. Device side: no TensorFlow.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from edgecnn.core.console import to_stderr
from edgecnn.core.errors import BadInputError
from edgecnn.core.records import Record
from edgecnn.device.bench import BenchResult


@dataclass(frozen=True)
class BoardLatency(Record):
    """The cost model's latency of one model on one board (None: no estimate) and its fit."""

    latency_ms: float | None
    fits: bool


@dataclass(frozen=True)
class ComparedModel:
    """One model's measured row and its estimate on each board asked for."""

    bench: BenchResult
    estimates: dict[str, BoardLatency]

    def to_dict(self) -> dict:
        """The benchmark row with an ``estimates`` entry, ``{board: {latency_ms, fits}}``."""
        return self.bench.to_dict() | {
            "estimates": {b: e.to_dict() for b, e in self.estimates.items()}
        }


@dataclass(frozen=True)
class Comparison:
    """The rows of a benchmark, in the models' order, and where they were measured."""

    rows: tuple[ComparedModel, ...]
    boards: tuple[str, ...]
    remote: str | None

    def to_list(self) -> list[dict]:
        """One JSON-ready dict per model (what ``edgecnn benchmark --json`` prints)."""
        return [row.to_dict() for row in self.rows]


def compare_models(
    models: Sequence[str | os.PathLike],
    *,
    threads: int | None = None,
    runs: int = 100,
    warmup: int = 10,
    boards: Sequence[str] = (),
    remote: str | None = None,
    remote_edgecnn: str | None = None,
    input_shape: tuple[int, ...] | None = None,
    log: Callable[[str], None] | None = None,
) -> Comparison:
    """Benchmarks each model (here, or on ``remote`` over ssh) and estimates it per board.

    Args:
        boards: board ids to estimate each model on (none: no estimates).
        remote: ``[user@]host[:port]`` to measure on, see :mod:`edgecnn.targets.remote`.
        remote_edgecnn: the edgecnn command there [``edgecnn``]; needs ``remote``.
        input_shape: the sizes (without the batch) for a dynamic-input model.
        log: where notes for people go (emulation, ssh); default stderr.

    Raises:
        BadInputError: ``remote_edgecnn`` without ``remote``, plus what the benchmark, the
            remote benchmark and the estimate raise.
    """
    if remote_edgecnn and not remote:
        raise BadInputError("--remote-edgecnn needs --remote USER@HOST")
    log = log or to_stderr
    _emulation_note(log)
    timing = {"threads": threads, "runs": runs, "warmup": warmup, "input_shape": input_shape}
    measured = _measure(models, remote, remote_edgecnn, log, **timing)
    estimates = _estimates(models, boards, threads, input_shape)
    rows = tuple(ComparedModel(r, e) for r, e in zip(measured, estimates, strict=True))
    return Comparison(rows=rows, boards=tuple(boards), remote=remote)


def _measure(models, remote, remote_edgecnn, log, **timing) -> list[BenchResult]:
    """One benchmark row per model, measured here or on ``remote`` over ssh."""
    if remote:
        from edgecnn.targets.remote import benchmark_remote

        log(f"benchmarking on {remote} over ssh ...")
        return benchmark_remote(
            models, remote=remote, remote_edgecnn=remote_edgecnn or "edgecnn", **timing
        )
    from edgecnn.device.bench import benchmark

    return [benchmark(m, **timing) for m in models]


def _emulation_note(log: Callable[[str], None]) -> None:
    """Says so when an emulator declared itself (make test-pi does)."""
    from edgecnn.device.doctor import EMULATION_ENV

    if os.environ.get(EMULATION_ENV):
        log(
            f"note: running under emulation ({os.environ[EMULATION_ENV]}): these timings mean "
            "nothing for real hardware"
        )


def _estimates(models, boards, threads, input_shape) -> list[dict[str, BoardLatency]]:
    """Per model, each board's estimated latency and fit (empty without boards)."""
    if not boards:
        return [{} for _ in models]
    from edgecnn.targets.estimate import estimate

    return [
        {
            e.board: BoardLatency(e.latency_ms, e.fits)
            for e in estimate(m, boards=list(boards), threads=threads, input_shape=input_shape)
        }
        for m in models
    ]
