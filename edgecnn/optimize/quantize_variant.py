"""One variant of ``edgecnn quantize``: convert, keep layers in float if asked, measure, write.

Every variant is evaluated through the real LiteRT interpreter on the run's held-out test
split and compared with the Keras model's predictions on the same inputs, then written with
its manifest. It is also evaluated on the validation split: choosing among variants (the
pipeline) must rank on validation, so the test accuracy stays an unbiased report.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgecnn.core import fileio, optional
from edgecnn.core.manifest import Manifest, VariantInfo, write_manifest
from edgecnn.core.modes import IOType, Mode
from edgecnn.core.records import NOT_WRITTEN, Record
from edgecnn.device.interpreter import TFLiteModel
from edgecnn.optimize.convert import convert
from edgecnn.optimize.fallback import keep_worst_in_float
from edgecnn.targets.boardcheck import BoardCheck, check_on_boards
from edgecnn.targets.boards import Board
from edgecnn.training import metrics
from edgecnn.training.prepare import PreparedData
from edgecnn.training.recordings import recording_accuracy
from edgecnn.training.train import predict_probs


@dataclass(frozen=True)
class Variant(Record):
    """One converted model and what it lost against the Keras model."""

    mode: Mode
    io: IOType
    path: str
    size_bytes: int
    accuracy: float
    keras_accuracy: float
    delta: float
    agreement: float
    max_abs_diff: float
    val_accuracy: float
    input_dtype: str
    output_dtype: str
    float_layers: tuple[str, ...] = ()
    note: str = ""
    # Test accuracy per recording (mean probability over its windows); None without any.
    recording_accuracy: float | None = None
    boards: tuple[BoardCheck, ...] = ()
    # Top-1 class per test sample (for confusion matrices and replay checks; not in to_dict).
    predictions: tuple[int, ...] = field(
        default=(), repr=False, compare=False, metadata=NOT_WRITTEN
    )
    # Top-1 class per validation sample (what a choice among variants ranks; not in to_dict).
    val_predictions: tuple[int, ...] = field(
        default=(), repr=False, compare=False, metadata=NOT_WRITTEN
    )


@dataclass(frozen=True)
class KerasReference:
    """The Keras model's test probabilities and accuracies, which every variant is held to."""

    probs: np.ndarray
    accuracy: float
    val_accuracy: float


@dataclass(frozen=True)
class QuantizeJob:
    """What every variant of one quantize call shares."""

    model: object
    model_path: Path
    data: PreparedData
    record: dict
    reference: KerasReference
    calibration: np.ndarray | None
    calibration_info: dict
    io: IOType
    max_drop: float | None
    boards: tuple[Board, ...]


def keras_reference(model, data: PreparedData) -> KerasReference:
    """The Keras model's predictions on the test split and its test/validation accuracy."""
    probs = predict_probs(model, data.inputs("test"))
    val = predict_probs(model, data.inputs("val"))
    return KerasReference(
        probs=probs,
        accuracy=_accuracy(probs, data.arrays.y["test"]),
        val_accuracy=_accuracy(val, data.arrays.y["val"]),
    )


def _accuracy(probs: np.ndarray, y: np.ndarray) -> float:
    return metrics.accuracy(y, np.argmax(probs, axis=-1))


def _by_recording(probs: np.ndarray, data: PreparedData) -> float | None:
    found = recording_accuracy(probs, data.arrays.y["test"], data.groups("test"))
    return found and found["mean_probability"]


def make_variant(job: QuantizeJob, mode: Mode) -> Variant:
    """Converts, evaluates and writes one mode (the .tflite and its manifest)."""
    io_used = job.io if mode.needs_calibration else IOType.FLOAT
    tflite, float_layers, note = _convert(job, mode, io_used)
    tm = TFLiteModel(tflite)
    probs = tm.predict(job.data.inputs("test"))
    accuracy = _accuracy(probs, job.data.arrays.y["test"])
    val_classes = tm.predict(job.data.inputs("val")).argmax(-1)
    reference = job.reference
    path = _variant_path(job.model_path, mode, io_used)
    variant = Variant(
        mode=str(mode),
        io=str(io_used),
        path=str(path),
        size_bytes=len(tflite),
        accuracy=round(accuracy, 4),
        keras_accuracy=round(reference.accuracy, 4),
        delta=round(accuracy - reference.accuracy, 4),
        agreement=round(float(np.mean(probs.argmax(-1) == reference.probs.argmax(-1))), 4),
        max_abs_diff=float(np.max(np.abs(probs - reference.probs))),
        val_accuracy=round(metrics.accuracy(job.data.arrays.y["val"], val_classes), 4),
        input_dtype=tm.input.dtype,
        output_dtype=tm.output.dtype,
        float_layers=float_layers,
        note=note,
        recording_accuracy=_by_recording(probs, job.data),
        boards=tuple(check_on_boards(tflite, mode=str(mode), boards=job.boards)),
        predictions=tuple(int(c) for c in probs.argmax(-1)),
        val_predictions=tuple(int(c) for c in val_classes),
    )
    fileio.write_bytes(path, tflite)
    write_manifest(path, _manifest(job, variant, tm, tflite))
    return variant


def _convert(job: QuantizeJob, mode: Mode, io_used: IOType) -> tuple[bytes, tuple[str, ...], str]:
    """(.tflite bytes, layers kept in float, note); int8 keeps layers in float over budget."""
    tflite = convert(job.model, mode, calibration=job.calibration, io_type=io_used)
    if mode == Mode.INT8 and job.max_drop is not None:
        return _within_budget(job, tflite, io_used)
    return tflite, (), ""


def _variant_path(model_path: Path, mode: Mode, io_used: IOType) -> Path:
    """``<model>-<mode>.tflite``; ``-floatio`` marks a quantized model with float I/O."""
    suffix = "" if io_used == IOType.INT or not mode.needs_calibration else "-floatio"
    return model_path.with_name(f"{model_path.stem}-{mode}{suffix}.tflite")


def _within_budget(
    job: QuantizeJob, tflite: bytes, io_type: IOType
) -> tuple[bytes, tuple[str, ...], str]:
    """Keeps the worst layers in float while validation accuracy misses the budget."""
    x_val, y_val = job.data.inputs("val"), job.data.arrays.y["val"]

    def accuracy_of(candidate: bytes) -> float:
        return _accuracy(TFLiteModel(candidate).predict(x_val), y_val)

    target = job.reference.val_accuracy - job.max_drop
    if accuracy_of(tflite) >= target:
        return tflite, (), ""
    found = keep_worst_in_float(
        job.model,
        calibration=job.calibration,
        accuracy_of=accuracy_of,
        target_accuracy=target,
        io_type=io_type,
    )
    kept = ", ".join(found.float_layers)
    budget = f"{job.max_drop:.3f}"
    note = (
        f"kept in float to stay within {budget} on validation: {kept}"
        if found.met_budget
        else f"budget {budget} not met even with these in float: {kept}"
    )
    return found.model, found.float_layers, note


def _manifest(job: QuantizeJob, variant: Variant, tm: TFLiteModel, tflite: bytes) -> Manifest:
    """What a device needs to run the variant and a person needs to trust it."""
    data, model_path = job.data, job.model_path
    return Manifest(
        labels=list(data.labels),
        input=tm.input.to_dict(),
        output=tm.output.to_dict(),
        preprocessing=dataclasses.replace(data.preprocessing, **_csv_columns(job)),
        variant=VariantInfo(
            mode=variant.mode,
            io=variant.io,
            pruned=model_path.stem != "model",
            float_layers=tuple(variant.float_layers),
        ),
        source_model=str(model_path),
        metrics={
            "accuracy": variant.accuracy,
            "keras_accuracy": variant.keras_accuracy,
            "agreement": variant.agreement,
            "max_abs_diff": variant.max_abs_diff,
            "test_samples": len(data.arrays.y["test"]),
            "split": "test",
        },
        sha256=hashlib.sha256(tflite).hexdigest(),
        size_bytes=len(tflite),
        versions=optional.toolchain_versions(),
        dataset_fingerprint=job.record["data"].get("fingerprint"),
    )


def _csv_columns(job: QuantizeJob) -> dict:
    """The CSV columns training read labels and recordings from (``replay:FILE.csv`` too)."""
    if not job.data.preprocessing.channels:
        return {}
    options = job.record.get("config", {}).get("data_options", {})
    return {
        "label_column": options.get("label_column") or "label",
        "segment_column": options.get("segment_column"),
    }
