"""The steps that make and measure each variant of a Keras model: conversion in every mode
(with its evaluation on the validation and test splits), a benchmark on this machine and the
estimate on every target board, each reused while its key is unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgecnn.core.errors import ModelError
from edgecnn.core.manifest import manifest_path
from edgecnn.core.modes import Mode
from edgecnn.pipeline.config import PipelineConfig
from edgecnn.pipeline.evaluation import accuracy
from edgecnn.pipeline.modelsteps import Trained
from edgecnn.pipeline.result import BoardRow, VariantReport
from edgecnn.pipeline.steps import StepCache, file_digest, key_of, machine, toolchain
from edgecnn.targets.boards import board_file
from edgecnn.targets.costmodel import cost_model_path


def quantized(config, steps: StepCache, keras_path: Path, log, *, prefix: str = ""):
    """(.tflite, conversion record) of every mode for one model, converting only what is
    not done yet, and a line for each mode that failed to convert; ``prefix`` (the family,
    among several) starts the variant names."""
    digest = file_digest(keras_path)
    paths = {m: keras_path.with_name(f"{keras_path.stem}-{m}.tflite") for m in config.modes}
    outputs = {m: (paths[m], manifest_path(paths[m])) for m in config.modes}
    names = {m: f"quantize {prefix}{keras_path.stem}-{m}" for m in config.modes}
    keys = {m: _quantize_key(config, digest, m) for m in config.modes}
    missing = [m for m in config.modes if not steps.is_done(names[m], keys[m], outputs=outputs[m])]
    done, failed = _convert(config, keras_path, missing, log, prefix) if missing else ({}, {})
    converted = []
    for mode in (m for m in config.modes if m not in failed):
        if mode in done:
            record = steps.put(names[mode], keys[mode], done[mode], outputs=outputs[mode])
        else:  # found finished above: no second look at its files
            record = steps.reuse(names[mode])
        converted.append((paths[mode], record))
    skipped = [f"{prefix}{keras_path.stem}-{m}: {failed[m]}" for m in config.modes if m in failed]
    return converted, skipped


def _quantize_key(config, keras_digest: str, mode: Mode) -> str:
    calibrated = Mode(mode).needs_calibration  # only these read the calibration samples
    calibration = (config.calibration_samples, config.seed) if calibrated else None
    return key_of("quantize", toolchain(), keras_digest, mode, calibration)


def _convert(config, keras_path: Path, modes: list[str], log, prefix: str):
    """Converts all ``modes`` in one call; when that fails, one by one, keeping what works."""
    from edgecnn.optimize.quantize import quantize

    def convert(wanted: list[str]) -> dict[str, dict]:
        found = quantize(
            keras_path,
            modes=wanted,
            calibration_samples=config.calibration_samples,
            seed=config.seed,
        )
        # quantize evaluated each variant through LiteRT on both splits: keep that.
        return {
            v.mode: {"predictions": list(v.predictions), "val_predictions": list(v.val_predictions)}
            for v in found.variants
        }

    log(f"pipeline: converting {prefix}{keras_path.name} to {', '.join(modes)}")
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
            log(f"pipeline: {prefix}{keras_path.stem}-{mode} skipped: {exc}")
    return done, failed


def variant_report(
    config, steps: StepCache, trained: Trained, ratio: float, tflite: Path, record
) -> VariantReport:
    """One converted variant benchmarked, estimated and compared to its family's reference."""
    name = trained.family.prefix + tflite.stem
    digest = file_digest(tflite)
    bench = steps.run(
        f"benchmark {name}",
        key_of("benchmark", toolchain(), digest, config.bench_runs, machine()),
        lambda: _benchmark(tflite, config.bench_runs),
    )
    boards = _estimate_step(config, steps, name, tflite, digest) if config.boards else []
    reference = trained.record
    predicted = np.asarray(record["predictions"])
    truth = np.asarray(reference["truth"])
    held_out = accuracy(truth, predicted)
    val_truth = np.asarray(reference["val_truth"])
    return VariantReport(
        name=name,
        prune_ratio=ratio,
        mode=tflite.stem.rsplit("-", 1)[1],
        path=str(tflite),
        size_bytes=tflite.stat().st_size,
        accuracy=held_out,
        correct=int(np.sum(predicted == truth)),
        test_samples=len(predicted),
        delta=round(held_out - reference["accuracy"], 4),
        agreement=accuracy(np.asarray(reference["predictions"]), predicted),
        val_accuracy=accuracy(val_truth, np.asarray(record["val_predictions"])),
        val_samples=len(val_truth),
        host_p50_ms=bench["p50_ms"],
        boards=tuple(BoardRow(**row) for row in boards),
        family=trained.family.name,
    )


def _benchmark(tflite: Path, runs: int) -> dict:
    from edgecnn.device.bench import benchmark

    result = benchmark(tflite, runs=runs, warmup=min(10, runs))
    return {"p50_ms": result.p50_ms, "mean_ms": result.mean_ms}


def _estimate_step(config, steps: StepCache, name: str, tflite: Path, digest: str) -> list[dict]:
    boards = [(b, file_digest(board_file(b))) for b in config.boards]
    key = key_of("estimate", toolchain(), digest, boards, file_digest(cost_model_path()))
    value = steps.run(f"estimate {name}", key, lambda: {"rows": _estimate(tflite, config)})
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
