"""``edgecnn prune``: make a trained model smaller, fine-tune it, and say what it cost.

Reads a run folder (or a .keras inside one), prunes the model, fine-tunes it on the run's
training split, evaluates both on the run's held-out test split and writes
``pruned.keras`` and ``prune.json`` beside the original model.
"""

from __future__ import annotations

import gzip
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgecnn import __version__
from edgecnn.core import fileio
from edgecnn.core.console import to_stderr
from edgecnn.core.errors import BadInputError
from edgecnn.optimize.pruning import magnitude
from edgecnn.optimize.pruning.finetune import finetune, sparsity_schedule, training_batches
from edgecnn.optimize.pruning.options import Criterion, Method, Scope
from edgecnn.optimize.pruning.result import NOTES, PruneResult, check_options
from edgecnn.optimize.pruning.structured import StructuredPlan, apply_plan, plan_structured
from edgecnn.training import metrics, tfdeps
from edgecnn.training.modelio import load_keras_model, plain_copy, save_keras_model
from edgecnn.training.prepare import PreparedData
from edgecnn.training.rundir import RunDir
from edgecnn.training.runs import load_run, resolve_source
from edgecnn.training.summary import summarize
from edgecnn.training.train import predict_classes
from edgecnn.training.trainconfig import TrainConfig

keras = tfdeps.keras()


@dataclass(frozen=True)
class _Measure:
    params: int
    macs: int
    layer_macs: dict[str, int]
    accuracy: float
    size_bytes: int
    gzip_bytes: int


def prune(
    source: str | Path,
    *,
    method: Method | str = Method.STRUCTURED,
    ratio: float = 0.5,
    finetune_epochs: int = 3,
    scope: Scope | str = Scope.LAYER,
    criterion: Criterion | str = Criterion.L1,
    max_group_ratio: float = 0.9,
    min_weights: int = 64,
    skip_first: bool = False,
    lr_factor: float = 1.0,
    out: str | None = None,
    log: Callable[[str], None] | None = None,
) -> PruneResult:
    """Prunes the model of a training run, fine-tunes it and writes it into the run folder.

    Args:
        source: a finished run folder or a .keras file inside one.
        method: ``structured`` (remove channels) or ``magnitude`` (zero single weights).
        ratio: fraction of channels to remove (structured) or target sparsity (magnitude),
            strictly between 0 and 1.
        finetune_epochs: epochs of fine-tuning on the training split (0: none).
        scope: structured: ``layer`` (each group loses ``ratio``) or ``global``.
        criterion: structured: ``l1`` (filter norm) or ``bn`` (|BN gamma|).
        max_group_ratio: structured, global scope: most any one group may lose.
        min_weights: magnitude: kernels smaller than this stay dense.
        skip_first: magnitude: leave the first conv/dense kernel dense.
        lr_factor: fine-tuning learning rate (constant) as a multiple of the run's ``lr``.
            The run decayed from ``lr`` to 2% of it; on builtin:digits fine-tuning a pruned
            vgg_tiny for 4 epochs at 1.0 x ``lr`` recovered more accuracy than at 0.3 x
            (see benchmarks/prune_figures.py).
        out: file name of the pruned model in the run folder (default ``pruned.keras``);
            the report is named after it (``pruned-0.5.keras`` -> ``prune-0.5.json``).
        log: where progress lines go; default stderr.

    Raises:
        BadInputError: an option out of range, a source that is not a run (or not in one),
            or an ``out`` that is not a plain ``.keras`` file name.
        ModelError: an unloadable model file or a layer structured pruning cannot handle.
    """
    options = check_options(
        method=method, ratio=ratio, finetune_epochs=finetune_epochs, scope=scope,
        criterion=criterion, max_group_ratio=max_group_ratio, min_weights=min_weights,
        skip_first=skip_first, lr_factor=lr_factor, out=out,
    )  # fmt: skip
    log = log or to_stderr
    found = resolve_source(source)
    run = found.require_run("pruning")
    paths = _output_paths(run, found.model_path, options.out)
    model = load_keras_model(found.model_path)
    plan = _plan(model, options)  # refuses layers it cannot prune before any work is done
    record, prepared = load_run(run)
    config = TrainConfig.from_dict(record["config"])
    # The rebuilt model's dropout seeds are drawn from the global RNG: seed it first, so a
    # pruning gives the same model whatever ran before it in this process.
    keras.utils.set_random_seed(config.seed)
    before = _measure(model, prepared, saved=_file_sizes_of(model))
    _log_measure(log, found.model_path, before)
    if plan is not None:
        pruned, history, rows = _structured(model, plan, prepared, config, options, log)
    else:
        pruned, history, rows = _magnitude(model, prepared, config, options, log)
    after = _measure(pruned, prepared, saved=(0, 0))  # sizes known once written
    if plan is not None:
        rows = [row | _macs_of(row["name"], before, after) for row in rows]
    result = _write(pruned, _result(options, run, found, paths, before, after, rows), history)
    _log_measure(log, paths[0], after)
    return result


def _output_paths(run: RunDir, source: Path, out: str) -> tuple[Path, Path]:
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


def _plan(model: Any, options: Any) -> StructuredPlan | None:
    if options.method != Method.STRUCTURED:
        return None
    return plan_structured(
        model, ratio=options.ratio, scope=options.scope, criterion=options.criterion,
        max_group_ratio=options.max_group_ratio,
    )  # fmt: skip


def _log_measure(log: Callable[[str], None], path: Path, measure: _Measure) -> None:
    log(f"{path}: {measure.params:,} params, {measure.macs:,} MACs, "
        f"test accuracy {measure.accuracy:.4f}")  # fmt: skip


def _measure(model: Any, prepared: PreparedData, *, saved: tuple[int, int]) -> _Measure:
    summary = summarize(model)
    predicted = predict_classes(model, prepared.inputs("test"))
    return _Measure(
        params=summary.total_params,
        macs=summary.total_macs,
        layer_macs={row.name: row.macs for row in summary.layers},
        accuracy=round(metrics.accuracy(prepared.arrays.y["test"], predicted), 4),
        size_bytes=saved[0],
        gzip_bytes=saved[1],
    )


def _structured(model, plan, prepared, config, options, log) -> tuple[Any, dict, list[dict]]:
    thin = apply_plan(model, plan)
    history = _finetune(thin, prepared, config, options, log, callbacks=())
    return plain_copy(thin), history, plan.layers()


def _magnitude(model, prepared, config, options, log) -> tuple[Any, dict, list[dict]]:
    """Prunes ``model`` in place and returns its stripped copy."""
    targets, skipped = magnitude.find_targets(
        model, min_weights=options.min_weights, skip_first=options.skip_first
    )
    batches = training_batches(prepared, config)
    schedule = sparsity_schedule(options.ratio, steps=len(batches) * options.finetune_epochs)
    pruning = magnitude.MagnitudePruning(targets, schedule)
    history = _finetune(model, prepared, config, options, log, callbacks=(pruning,),
                        batches=batches)  # fmt: skip
    # Lands exactly on the target, also when fine-tuning was too short (or off) to get there.
    magnitude.prune_once(targets, options.ratio)
    stripped = magnitude.strip_pruning(model)
    return stripped, history, magnitude.sparsity_report(stripped, targets, skipped)


def _finetune(model, prepared, config, options, log, *, callbacks, batches=None) -> dict:
    if options.finetune_epochs:
        log(f"fine-tuning {options.finetune_epochs} epochs at lr {config.lr * options.lr_factor:g}")
    return finetune(
        model,
        batches=batches or training_batches(prepared, config),
        prepared=prepared,
        config=config,
        epochs=options.finetune_epochs,
        lr=config.lr * options.lr_factor,
        callbacks=callbacks,
        log=log,
    )


def _macs_of(name: str, before: _Measure, after: _Measure) -> dict[str, int]:
    return {
        "macs_before": before.layer_macs.get(name, 0),
        "macs_after": after.layer_macs.get(name, 0),
    }


def _result(options, run, found, paths, before, after, rows) -> PruneResult:
    sparsity = magnitude.overall_sparsity(rows) if options.method == Method.MAGNITUDE else None
    return PruneResult(
        method=str(options.method),
        ratio=options.ratio,
        run_dir=str(run.root),
        source_path=str(found.model_path),
        model_path=str(paths[0]),
        report_path=str(paths[1]),
        params_before=before.params,
        params_after=after.params,
        macs_before=before.macs,
        macs_after=after.macs,
        size_bytes_before=before.size_bytes,
        size_bytes_after=after.size_bytes,
        gzip_bytes_before=before.gzip_bytes,
        gzip_bytes_after=after.gzip_bytes,
        accuracy_before=before.accuracy,
        accuracy_after=after.accuracy,
        finetune_epochs=options.finetune_epochs,
        sparsity=sparsity,
        layers=tuple(rows),
        options=options.to_dict(),
        note=NOTES[options.method],
    )


def _file_sizes_of(model: Any) -> tuple[int, int]:
    """(bytes, gzip bytes) of the model saved without optimizer state."""
    with tempfile.TemporaryDirectory() as tmp:
        path = save_keras_model(plain_copy(model), Path(tmp) / "model.keras")
        return _sizes(path)


def _sizes(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    return len(data), len(gzip.compress(data, compresslevel=9))


def _write(model: Any, result: PruneResult, history: dict) -> PruneResult:
    """Saves the model, then the report that marks it complete; returns the final result.

    A failure after the model is saved removes it again: never a model without its report.
    """
    model_path, report_path = Path(result.model_path), Path(result.report_path)
    report_path.unlink(missing_ok=True)  # a stale report must not describe the new model
    save_keras_model(model, model_path)
    try:
        size, packed = _sizes(model_path)
        final = PruneResult(**{**result.__dict__, "size_bytes_after": size,
                               "gzip_bytes_after": packed})  # fmt: skip
        report = final.to_dict() | {"edgecnn_version": __version__, "history": history}
        fileio.write_json(report_path, report)
    except BaseException:
        model_path.unlink(missing_ok=True)
        raise
    return final
