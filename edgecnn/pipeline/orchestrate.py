"""The pipeline: train -> prune at each ratio -> quantize (and evaluate) in each mode ->
benchmark here -> estimate on every board -> pick the best variant within the budgets.

Every step is content-hashed (``steps``): re-running with the same config reuses what is
finished, so changing a budget or adding a board never retrains.
"""

from __future__ import annotations

import functools
import os
import platform
import shutil
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from edgecnn.core import fileio, optional
from edgecnn.core.console import to_stderr
from edgecnn.core.errors import BadInputError, ModelError
from edgecnn.core.manifest import manifest_path
from edgecnn.device import platforminfo
from edgecnn.pipeline.config import PipelineConfig
from edgecnn.pipeline.report import write_report
from edgecnn.pipeline.result import BoardRow, PipelineResult, VariantReport
from edgecnn.pipeline.select import Selection, select
from edgecnn.pipeline.steps import StepCache, file_digest, key_of, source_digest
from edgecnn.targets.boards import board_file
from edgecnn.targets.costmodel import COST_MODEL_PATH
from edgecnn.training import metrics
from edgecnn.training.rundir import RunDir, load_labels

DEFAULT_FOLDER = Path("runs") / "pipeline"
RESULT_FILE = "pipeline.json"


def run_pipeline(
    config: PipelineConfig,
    *,
    out: str | Path | None = None,
    log: Callable[[str], None] | None = None,
) -> PipelineResult:
    """Runs (or resumes) the pipeline into ``out`` and writes report.md and report.html.

    Args:
        config: what to train, the variants, the boards and the budgets.
        out: the pipeline folder (default ``runs/pipeline``); re-running into the same
            folder reuses every step whose inputs did not change.
        log: where progress lines go; default stderr.

    Returns:
        The result; ``result.met`` is False when no variant met every budget (the report
        is written all the same and says which budget nothing met, by how much).

    Raises:
        BadInputError: bad data or options (the training step checks them first).
    """
    log = log or to_stderr
    started = time.perf_counter()
    folder = Path(out) if out else DEFAULT_FOLDER
    steps = StepCache(folder, log)
    run, trained = _train_step(config, folder, steps, log)
    models, skipped = _model_files(config, run, trained["key"], steps, log)
    variants = []
    for ratio, keras_path in models:
        converted, failed = _quantized(config, steps, keras_path, log)
        skipped += failed
        variants += [_variant(config, steps, trained, ratio, *c) for c in converted]
    selection = select(
        [v.candidate() for v in variants],
        config.budgets,
        reference_accuracy=trained["accuracy"],
    )
    variants = [_with_misses(v, selection) for v in variants]
    result = PipelineResult(
        folder=str(folder),
        run_dir=str(run.root),
        reference_accuracy=trained["accuracy"],
        variants=tuple(variants),
        chosen=selection.chosen.name if selection.chosen else None,
        why=_why(selection, variants, config),
        unmet=selection.unmet,
        skipped=tuple(skipped),
        reused=tuple(steps.reused),
        ran=tuple(steps.ran),
        config=config.to_dict(),
        provenance=_provenance(trained),
        report_md=str(folder / "report.md"),
        report_html=str(folder / "report.html"),
        seconds=round(time.perf_counter() - started, 1),
    )
    write_report(result, confusion=_chosen_confusion(result, trained, run), log=log)
    fileio.write_json(folder / RESULT_FILE, result.to_dict())
    return result


def _train_step(config: PipelineConfig, folder: Path, steps: StepCache, log):
    """The training run folder (named after its key) and the reference it measured."""
    train_config = _train_config(config)
    options = train_config.to_dict() | {"data": None}  # the data's content is keyed instead
    key = key_of("train", _toolchain(), source_digest(config.data), options)
    run = RunDir(folder / f"train-{config.model}-{key[:10]}")

    def compute() -> dict:
        from edgecnn.training.train import train

        resume = run.state.is_file() and not run.is_complete()
        if not resume and not run.is_complete() and run.root.exists():
            shutil.rmtree(run.root)  # an unfinished run without a checkpoint: start over
        if not run.is_complete():
            train(train_config, out=run.root, resume=resume, log=log)
        return _reference(run) | {"key": key}

    return run, steps.run("train", key, compute, outputs=(run.model, run.report))


def _train_config(config: PipelineConfig):
    from edgecnn.training.trainconfig import TrainConfig

    training = ("epochs", "seed", "batch_size", "width", "patience", "augment", "balance")
    reading = ("input_shape", "window", "hop", "label_column")
    return TrainConfig.from_options(
        data=config.data,
        model=config.model,
        **{key: getattr(config, key) for key in training + reading},
    )


def _reference(run: RunDir) -> dict:
    """The test split's true classes and the trained Keras model's predictions: what every
    variant is compared to."""
    from edgecnn.training.modelio import load_keras_model
    from edgecnn.training.runs import load_run
    from edgecnn.training.train import predict_classes

    prepared = load_run(run)[1]
    truth = prepared.arrays.y["test"]
    predicted = predict_classes(load_keras_model(run.model), prepared.inputs("test"))
    report = fileio.read_json(run.report)
    return {
        "accuracy": _accuracy(truth, predicted),
        "truth": truth.tolist(),
        "predictions": predicted.tolist(),
        "fingerprint": fileio.read_json(run.config)["data"].get("fingerprint"),
        "params": report["params"],
        "macs": report["macs"],
        "train_seconds": report["train_seconds"],
    }


def _model_files(config, run: RunDir, train_key: str, steps: StepCache, log):
    """(ratio, .keras path) for the unpruned model and each pruning ratio that worked."""
    models, skipped = [], []
    for ratio in config.prune_ratios:
        if ratio == 0:
            models.append((0.0, run.model))
            continue
        try:
            pruned = _prune_step(config, run, train_key, ratio, steps, log)
        except ModelError as exc:  # a layer structured pruning cannot handle
            skipped.append(f"prune {ratio:g}: {exc}")
            log(f"pipeline: prune {ratio:g} skipped: {exc}")
            continue
        models.append((ratio, pruned))
    return models, skipped


def _prune_step(config, run: RunDir, train_key: str, ratio: float, steps: StepCache, log):
    """The pruned model's path (structured pruning at ``ratio``, fine-tuned)."""
    key = key_of("prune", _toolchain(), train_key, ratio, config.finetune_epochs)
    target = run.root / f"pruned-{ratio:g}.keras"

    def compute() -> dict:
        from edgecnn.optimize.prune import prune

        result = prune(
            run.root, ratio=ratio, finetune_epochs=config.finetune_epochs, out=target.name, log=log
        )
        return {"params": result.params_after, "macs": result.macs_after}

    steps.run(f"prune {ratio:g}", key, compute, outputs=(target,))
    return target


def _quantized(config, steps: StepCache, keras_path: Path, log):
    """(.tflite, conversion record) of every mode for one model, converting only what is
    not done yet, and a line for each mode that failed to convert."""
    digest = file_digest(keras_path)
    paths = {m: keras_path.with_name(f"{keras_path.stem}-{m}.tflite") for m in config.modes}
    outputs = {m: (paths[m], manifest_path(paths[m])) for m in config.modes}
    names = {m: f"quantize {keras_path.stem}-{m}" for m in config.modes}
    keys = {m: _quantize_key(config, digest, m) for m in config.modes}
    missing = [m for m in config.modes if not steps.is_done(names[m], keys[m], outputs=outputs[m])]
    done, failed = _convert(config, keras_path, missing, log) if missing else ({}, {})
    converted = []
    for mode in (m for m in config.modes if m not in failed):
        if mode in done:
            record = steps.put(names[mode], keys[mode], done[mode], outputs=outputs[mode])
        else:  # found finished above: no second look at its files
            record = steps.reuse(names[mode])
        converted.append((paths[mode], record))
    skipped = [f"{keras_path.stem}-{m}: {failed[m]}" for m in config.modes if m in failed]
    return converted, skipped


def _quantize_key(config, keras_digest: str, mode: str) -> str:
    calibrated = mode in ("int8", "int16x8")  # only these read the calibration samples
    calibration = (config.calibration_samples, config.seed) if calibrated else None
    return key_of("quantize", _toolchain(), keras_digest, mode, calibration)


def _convert(config, keras_path: Path, modes: list[str], log):
    """Converts all ``modes`` in one call; when that fails, one by one, keeping what works."""
    from edgecnn.optimize.quantize import quantize

    def convert(wanted: list[str]) -> dict[str, dict]:
        found = quantize(
            keras_path,
            modes=wanted,
            calibration_samples=config.calibration_samples,
            seed=config.seed,
        )
        # quantize evaluated each variant through LiteRT on the test split: keep that.
        return {v.mode: {"predictions": list(v.predictions)} for v in found.variants}

    log(f"pipeline: converting {keras_path.name} to {', '.join(modes)}")
    if len(modes) > 1:
        try:
            return convert(modes), {}
        except ModelError:
            log("pipeline: a mode failed to convert; converting one mode at a time")
    done, failed = {}, {}
    for mode in modes:
        try:
            done |= convert([mode])
        except ModelError as exc:  # e.g. an op the converter cannot lower in this mode
            failed[mode] = str(exc)
            log(f"pipeline: {keras_path.stem}-{mode} skipped: {exc}")
    return done, failed


def _variant(config, steps: StepCache, trained: dict, ratio: float, tflite: Path, record):
    digest = file_digest(tflite)
    bench = steps.run(
        f"benchmark {tflite.stem}",
        key_of("benchmark", _toolchain(), digest, config.bench_runs, _machine()),
        lambda: _benchmark(tflite, config.bench_runs),
    )
    boards = _estimate_step(config, steps, tflite, digest) if config.boards else []
    predicted = np.asarray(record["predictions"])
    truth = np.asarray(trained["truth"])
    accuracy = _accuracy(truth, predicted)
    return VariantReport(
        name=tflite.stem,
        prune_ratio=ratio,
        mode=tflite.stem.rsplit("-", 1)[1],
        path=str(tflite),
        size_bytes=tflite.stat().st_size,
        accuracy=accuracy,
        correct=int(np.sum(predicted == truth)),
        test_samples=len(predicted),
        delta=round(accuracy - trained["accuracy"], 4),
        agreement=_accuracy(np.asarray(trained["predictions"]), predicted),
        host_p50_ms=bench["p50_ms"],
        boards=tuple(BoardRow(**row) for row in boards),
    )


def _benchmark(tflite: Path, runs: int) -> dict:
    from edgecnn.device.bench import benchmark

    result = benchmark(tflite, runs=runs, warmup=min(10, runs))
    return {"p50_ms": result.p50_ms, "mean_ms": result.mean_ms}


def _estimate_step(config, steps: StepCache, tflite: Path, digest: str) -> list[dict]:
    boards = [(b, file_digest(board_file(b))) for b in config.boards]
    key = key_of("estimate", _toolchain(), digest, boards, file_digest(COST_MODEL_PATH))
    value = steps.run(f"estimate {tflite.stem}", key, lambda: {"rows": _estimate(tflite, config)})
    return value["rows"]


def _estimate(tflite: Path, config: PipelineConfig) -> list[dict]:
    from edgecnn.targets.estimate import estimate

    size = tflite.stat().st_size
    return [
        {
            "board": e.board,
            "kind": e.kind,
            "latency_ms": e.latency_ms,
            # Linux boards: tensor memory (RAM minus the model), the arena's counterpart.
            "arena_bytes": e.arena_bytes if e.kind == "mcu" else e.ram_bytes - size,
            "ram_bytes": e.ram_bytes,
            "flash_bytes": e.flash_bytes,
            "fits": e.fits,
            "reason": e.reason,
            "basis": e.basis,
        }
        for e in estimate(tflite, boards=list(config.boards))
    ]


def _with_misses(variant: VariantReport, selection: Selection) -> VariantReport:
    found = selection.misses.get(variant.name, ())
    return replace(variant, misses=tuple(ch.describe() for ch in found))


def _why(selection: Selection, variants: list[VariantReport], config: PipelineConfig) -> str:
    if selection.chosen is None:
        return "no variant met every budget on every board"
    passing = [v for v in variants if not v.misses]
    boards = ", ".join(config.boards) or "no target board"
    chosen = selection.chosen
    if len(passing) == 1:
        among = (
            f"the only one of the {len(variants)} variants" if len(variants) > 1 else "the variant"
        )
        return (
            f"{chosen.name} is {among} that meets every budget on {boards} "
            f"(test accuracy {chosen.accuracy:.4f})"
        )
    tied = sum(v.accuracy == chosen.accuracy for v in passing) > 1
    return (
        f"{chosen.name} has the best test accuracy ({chosen.accuracy:.4f}) of the "
        f"{len(passing)} of {len(variants)} variants that meet every budget on {boards}"
        + (" (a tie, won by the smaller file)" if tied else "")
    )


def _chosen_confusion(result: PipelineResult, trained: dict, run: RunDir) -> np.ndarray | None:
    if result.chosen is None:
        return None
    predicted = held_out_predictions(result.folder, result.chosen)
    return metrics.confusion_matrix(np.asarray(trained["truth"]), predicted, len(load_labels(run)))


def held_out_predictions(folder: str | Path, variant: str) -> np.ndarray:
    """The class indices a pipeline's evaluation predicted for one variant's test split.

    Raises:
        BadInputError: the folder holds no evaluation of ``variant``.
    """
    entry = StepCache(Path(folder), log=lambda _: None).steps.get(f"quantize {variant}")
    if entry is None:
        raise BadInputError(f"{folder} holds no pipeline evaluation of {variant!r}")
    return np.asarray(entry["value"]["predictions"])


@functools.cache
def _toolchain() -> dict[str, str | None]:
    """The versions results depend on: part of every step's key."""
    return optional.toolchain_versions()


def _provenance(trained: dict) -> dict:
    return {
        "data_fingerprint": trained["fingerprint"],
        "versions": _toolchain(),
        "machine": _machine(),
        "train_seconds": trained["train_seconds"],
        "params": trained["params"],
        "macs": trained["macs"],
    }


@functools.cache
def _machine() -> str:
    """What host timings depend on: architecture, CPU model and count."""
    cpu = platforminfo.host_cpuinfo().core
    name = cpu or platform.processor() or "unknown CPU"
    return f"{platform.machine()}, {name}, {os.cpu_count()} CPUs"


def _accuracy(truth: np.ndarray, predicted: np.ndarray) -> float:
    return round(metrics.accuracy(truth, predicted), 4)
