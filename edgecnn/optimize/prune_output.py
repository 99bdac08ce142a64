"""Where ``edgecnn prune`` writes and how: output names, saved sizes, model then report.

The report marks a pruned model complete: it is written after the model, and a model whose
report could not be written is removed again.
"""

from __future__ import annotations

import dataclasses
import gzip
import tempfile
from pathlib import Path
from typing import Any

from edgecnn import __version__
from edgecnn.core import fileio
from edgecnn.core.errors import BadInputError
from edgecnn.optimize.pruning.result import PruneResult
from edgecnn.training.modelio import plain_copy, save_keras_model
from edgecnn.training.rundir import RunDir


def output_paths(run: RunDir, source: Path, out: str) -> tuple[Path, Path]:
    """The pruned model's path in the run folder and its report's path."""
    if Path(out).name != out or not out.endswith(".keras") or out.startswith("."):
        raise BadInputError(
            f"out must be a plain .keras file name such as pruned-0.5.keras (it is written "
            f"into the run folder); got {out!r}"
        )
    target = run.root / out
    if out == run.model.name or target.resolve() == source.resolve():
        raise BadInputError(
            f"out {out!r} would overwrite the model being pruned; choose another name"
        )
    stem = out[: -len(".keras")]
    report = f"prune{stem[len('pruned') :]}" if stem.startswith("pruned") else f"prune-{stem}"
    return target, run.root / f"{report}.json"


def file_sizes_of(model: Any) -> tuple[int, int]:
    """(bytes, gzip bytes) of the model saved without optimizer state."""
    with tempfile.TemporaryDirectory() as tmp:
        path = save_keras_model(plain_copy(model), Path(tmp) / "model.keras")
        return _sizes(path)


def _sizes(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    return len(data), len(gzip.compress(data, compresslevel=9))


def write_pruned(model: Any, result: PruneResult, history: dict) -> PruneResult:
    """Saves the model, then the report that marks it complete; returns the final result.

    A failure after the model is saved removes it again: never a model without its report.
    """
    model_path, report_path = Path(result.model_path), Path(result.report_path)
    report_path.unlink(missing_ok=True)  # a stale report must not describe the new model
    save_keras_model(model, model_path)
    try:
        size, packed = _sizes(model_path)
        final = dataclasses.replace(result, size_bytes_after=size, gzip_bytes_after=packed)
        report = final.to_dict() | {"edgecnn_version": __version__, "history": history}
        fileio.write_json(report_path, report)
    except BaseException:
        model_path.unlink(missing_ok=True)
        raise
    return final
