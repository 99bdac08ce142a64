"""``edgecnn prune``: make a trained model smaller, fine-tune it, and say what it cost.

Reads a run folder (or a .keras inside one), prunes the model, fine-tunes it on the run's
training split, evaluates both on the run's held-out test split and writes
``pruned.keras`` and ``prune.json`` beside the original model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgecnn.core.console import to_stderr
from edgecnn.optimize.prune_output import file_sizes_of, output_paths, write_pruned
from edgecnn.optimize.pruning import magnitude
from edgecnn.optimize.pruning.finetune import finetune, sparsity_schedule, training_batches
from edgecnn.optimize.pruning.options import Criterion, Method, Scope
from edgecnn.optimize.pruning.result import NOTES, PruneOptions, PruneResult, check_options
from edgecnn.optimize.pruning.structured import StructuredPlan, apply_plan, plan_structured
from edgecnn.training import metrics, tfdeps
from edgecnn.training.modelio import load_keras_model, plain_copy
from edgecnn.training.prepare import PreparedData
from edgecnn.training.rundir import RunDir
from edgecnn.training.runs import check_model_fits, load_run, resolve_source, saved_config
from edgecnn.training.summary import summarize
from edgecnn.training.train import predict_classes
from edgecnn.training.trainconfig import TrainConfig

keras = tfdeps.keras()

Log = Callable[[str], None]


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
    log: Log | None = None,
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
    return _run(_load(source, options), log or to_stderr)


@dataclass(frozen=True)
class _Job:
    """One pruning, loaded and checked before any slow step."""

    options: PruneOptions
    run: RunDir
    source_path: Path
    model_path: Path
    report_path: Path
    model: Any  # pruned in place by the magnitude method
    plan: StructuredPlan | None
    prepared: PreparedData
    config: TrainConfig


def _load(source: str | Path, options: PruneOptions) -> _Job:
    """Resolves the run, checks the output name and plans before loading the data."""
    found = resolve_source(source)
    run = found.require_run("pruning")
    model_path, report_path = output_paths(run, found.model_path, options.out)
    model = load_keras_model(found.model_path)
    plan = _plan(model, options)  # refuses layers it cannot prune before any work is done
    record, prepared = load_run(run)
    check_model_fits(model, found.model_path, run, prepared)
    return _Job(
        options=options,
        run=run,
        source_path=found.model_path,
        model_path=model_path,
        report_path=report_path,
        model=model,
        plan=plan,
        prepared=prepared,
        config=saved_config(run, record),
    )


def _run(job: _Job, log: Log) -> PruneResult:
    """Measures, prunes and fine-tunes, measures again, then writes model and report."""
    # The rebuilt model's dropout seeds are drawn from the global RNG: seed it first, so a
    # pruning gives the same model whatever ran before it in this process.
    keras.utils.set_random_seed(job.config.seed)
    before = _measure(job.model, job.prepared, saved=file_sizes_of(job.model))
    _log_measure(log, job.source_path, before)
    pruned, history, rows = _apply(job, log)
    after = _measure(pruned, job.prepared, saved=(0, 0))  # sizes known once written
    if job.plan is not None:
        rows = [row | _macs_of(row["name"], before, after) for row in rows]
    result = write_pruned(pruned, _result(job, before, after, rows), history)
    _log_measure(log, job.model_path, after)
    return result


def _plan(model: Any, options: PruneOptions) -> StructuredPlan | None:
    if options.method != Method.STRUCTURED:
        return None
    return plan_structured(
        model, ratio=options.ratio, scope=options.scope, criterion=options.criterion,
        max_group_ratio=options.max_group_ratio,
    )  # fmt: skip


def _log_measure(log: Log, path: Path, measure: _Measure) -> None:
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


def _apply(job: _Job, log: Log) -> tuple[Any, dict, list[dict]]:
    """(pruned and fine-tuned model, fine-tuning history, per-layer report rows)."""
    if job.plan is not None:
        return _structured(job, log)
    return _magnitude(job, log)


def _structured(job: _Job, log: Log) -> tuple[Any, dict, list[dict]]:
    thin = apply_plan(job.model, job.plan)
    history = _finetune(job, thin, log, callbacks=())
    return plain_copy(thin), history, job.plan.layers()


def _magnitude(job: _Job, log: Log) -> tuple[Any, dict, list[dict]]:
    """Prunes ``job.model`` in place and returns its stripped copy."""
    options, model = job.options, job.model
    targets, skipped = magnitude.find_targets(
        model, min_weights=options.min_weights, skip_first=options.skip_first
    )
    batches = training_batches(job.prepared, job.config)
    schedule = sparsity_schedule(options.ratio, steps=len(batches) * options.finetune_epochs)
    pruning = magnitude.MagnitudePruning(targets, schedule)
    history = _finetune(job, model, log, callbacks=(pruning,), batches=batches)
    # Lands exactly on the target, also when fine-tuning was too short (or off) to get there.
    magnitude.prune_once(targets, options.ratio)
    stripped = magnitude.strip_pruning(model)
    return stripped, history, magnitude.sparsity_report(stripped, targets, skipped)


def _finetune(job: _Job, model: Any, log: Log, *, callbacks, batches=None) -> dict:
    options, config = job.options, job.config
    if options.finetune_epochs:
        log(f"fine-tuning {options.finetune_epochs} epochs at lr {config.lr * options.lr_factor:g}")
    return finetune(
        model,
        batches=batches or training_batches(job.prepared, config),
        prepared=job.prepared,
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


def _result(job: _Job, before: _Measure, after: _Measure, rows: list[dict]) -> PruneResult:
    """The result before writing (``write_pruned`` adds the written model's sizes)."""
    options = job.options
    sparsity = magnitude.overall_sparsity(rows) if options.method == Method.MAGNITUDE else None
    return PruneResult(
        method=str(options.method),
        ratio=options.ratio,
        run_dir=str(job.run.root),
        source_path=str(job.source_path),
        model_path=str(job.model_path),
        report_path=str(job.report_path),
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
