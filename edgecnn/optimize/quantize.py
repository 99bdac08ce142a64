"""``edgecnn quantize``: convert a trained model to TFLite variants and measure each honestly.

Every variant is evaluated through the real LiteRT interpreter on the run's held-out test
split, with the run's preprocessing, and written with its manifest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgecnn.core import fileio, optional
from edgecnn.core.errors import BadInputError
from edgecnn.core.manifest import Manifest, write_manifest
from edgecnn.device.interpreter import TFLiteModel
from edgecnn.optimize.calibration import DEFAULT_SAMPLES, draw_balanced, load_calibration
from edgecnn.optimize.convert import IOType, Mode, convert
from edgecnn.optimize.fallback import keep_worst_in_float
from edgecnn.targets.boardcheck import BoardCheck, check_on_boards
from edgecnn.targets.boards import Board, get_board
from edgecnn.training import metrics, tfdeps
from edgecnn.training.modelio import load_keras_model
from edgecnn.training.prepare import PreparedData
from edgecnn.training.runs import load_run, resolve_source
from edgecnn.training.train import predict_probs

tfdeps.keras()


@dataclass(frozen=True)
class Variant:
    """One converted model and what it lost against the Keras model."""

    mode: str
    io: str
    path: str
    size_bytes: int
    accuracy: float
    keras_accuracy: float
    delta: float
    agreement: float
    max_abs_diff: float
    input_dtype: str
    output_dtype: str
    float_layers: tuple[str, ...] = ()
    note: str = ""
    boards: tuple[BoardCheck, ...] = ()
    # Top-1 class per test sample (for confusion matrices and replay checks; not in to_dict).
    predictions: tuple[int, ...] = field(default=(), repr=False, compare=False)

    def to_dict(self) -> dict:
        """A JSON-ready dict (without the per-sample predictions)."""
        out = {k: v for k, v in self.__dict__.items() if k != "predictions"}
        return out | {
            "float_layers": list(self.float_layers),
            "boards": [b.to_dict() for b in self.boards],
        }


@dataclass(frozen=True)
class QuantizeResult:
    """All variants of one model."""

    source_model: str
    keras_accuracy: float
    test_samples: int
    calibration: dict
    variants: tuple[Variant, ...]
    report_path: str

    def to_dict(self) -> dict:
        """A JSON-ready dict with ``variants`` as a list."""
        return dict(self.__dict__) | {"variants": [v.to_dict() for v in self.variants]}


def parse_modes(modes: Sequence[str]) -> list[Mode]:
    """Validates mode names (comma lists allowed), keeping order and dropping repeats."""
    names = [m.strip().lower() for text in modes for m in text.split(",") if m.strip()]
    known = [m.value for m in Mode]
    for name in names:
        if name not in known:
            raise BadInputError(f"unknown mode {name!r}; choose from {', '.join(known)}")
    return [Mode(n) for n in dict.fromkeys(names)] or [Mode.FP32, Mode.INT8]


def quantize(
    source: str | Path,
    *,
    modes: Sequence[str] = ("fp32", "int8"),
    io: IOType = IOType.INT,
    calibration: str | Path | None = None,
    calibration_samples: int = DEFAULT_SAMPLES,
    max_drop: float | None = None,
    boards: Sequence[str] = (),
    seed: int = 0,
) -> QuantizeResult:
    """Converts ``source`` (a run folder or a .keras in one) to each mode and evaluates it.

    Args:
        source: a finished run folder, or a .keras file inside one (e.g. ``pruned.keras``).
        modes: any of fp32, fp16, dynamic, int8, int16x8.
        io: ``int`` gives int8/int16 input and output to full-integer models; ``float``
            keeps float input and output.
        calibration: a calibration .npz (see calibration/README.md); default: samples drawn
            class-balanced from the run's training split.
        calibration_samples: how many to draw when no file is given.
        max_drop: accuracy budget for int8 (e.g. 0.01); over it, the worst layers are kept
            in float until the validation accuracy holds.
        boards: board ids to check each variant against (runtime, ops, arena, flash).
        seed: seeds the calibration draw.

    Raises:
        BadInputError: bad source, modes, calibration or budget (nothing is written then).
    """
    wanted = parse_modes(modes)
    targets = [get_board(b) for b in boards]
    if max_drop is not None and not 0 <= max_drop < 1:
        raise BadInputError(f"--max-drop {max_drop} must be in [0, 1), e.g. 0.01 for 1 point")
    found = resolve_source(source)
    run = found.require_run("quantization")
    model = load_keras_model(found.model_path)
    record, data = load_run(run)
    samples, calib_info = _calibration(data, calibration, calibration_samples, seed, wanted)
    job = _Job(
        model=model,
        model_path=found.model_path,
        data=data,
        record=record,
        reference=_keras_reference(model, data),
        calibration=samples,
        io=io,
        max_drop=max_drop,
        boards=tuple(targets),
    )
    variants = [_variant(job, mode) for mode in wanted]
    result = QuantizeResult(
        source_model=str(found.model_path),
        keras_accuracy=job.reference.accuracy,
        test_samples=len(data.arrays.y["test"]),
        calibration=calib_info,
        variants=tuple(variants),
        report_path=str(found.model_path.with_name(f"quantize-{found.model_path.stem}.json")),
    )
    fileio.write_json(result.report_path, result.to_dict())
    return result


@dataclass(frozen=True)
class _Reference:
    probs: np.ndarray
    accuracy: float
    val_accuracy: float


@dataclass(frozen=True)
class _Job:
    """What every variant of one quantize call shares."""

    model: object
    model_path: Path
    data: PreparedData
    record: dict
    reference: _Reference
    calibration: np.ndarray | None
    io: IOType
    max_drop: float | None
    boards: tuple[Board, ...]


def _keras_reference(model, data: PreparedData) -> _Reference:
    probs = predict_probs(model, data.inputs("test"))
    val = predict_probs(model, data.inputs("val"))
    return _Reference(
        probs=probs,
        accuracy=_accuracy(probs, data.arrays.y["test"]),
        val_accuracy=_accuracy(val, data.arrays.y["val"]),
    )


def _accuracy(probs: np.ndarray, y: np.ndarray) -> float:
    return metrics.accuracy(y, np.argmax(probs, axis=-1))


def _calibration(data, path, count, seed, modes) -> tuple[np.ndarray | None, dict]:
    if not any(m.needs_calibration for m in modes):
        return None, {"source": None, "samples": 0}
    shape = data.preprocessing.input_shape
    if path is not None:
        samples = load_calibration(path, input_shape=shape)
        return samples, {"source": str(path), "samples": len(samples)}
    if count < 10:
        raise BadInputError(f"--calibration-samples {count} is too few; at least 10 are needed")
    samples = draw_balanced(data.inputs("train"), data.arrays.y["train"], count=count, seed=seed)
    return samples, {"source": "training split (class-balanced)", "samples": len(samples)}


def _variant(job: _Job, mode: Mode) -> Variant:
    io_used = job.io if mode.needs_calibration else IOType.FLOAT
    tflite = convert(job.model, mode, calibration=job.calibration, io_type=io_used)
    float_layers, note = (), ""
    if mode == Mode.INT8 and job.max_drop is not None:
        tflite, float_layers, note = _within_budget(job, tflite, io_used)
    tm = TFLiteModel(tflite)
    probs = tm.predict(job.data.inputs("test"))
    accuracy = _accuracy(probs, job.data.arrays.y["test"])
    reference = job.reference
    suffix = "" if io_used == IOType.INT or not mode.needs_calibration else "-floatio"
    path = job.model_path.with_name(f"{job.model_path.stem}-{mode}{suffix}.tflite")
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
        input_dtype=tm.input.dtype,
        output_dtype=tm.output.dtype,
        float_layers=float_layers,
        note=note,
        boards=tuple(check_on_boards(tflite, mode=str(mode), boards=job.boards)),
        predictions=tuple(int(c) for c in probs.argmax(-1)),
    )
    fileio.write_bytes(path, tflite)
    write_manifest(path, _manifest(job, variant, tm, tflite))
    return variant


def _within_budget(job: _Job, tflite: bytes, io_type: IOType):
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


def _manifest(job: _Job, variant: Variant, tm: TFLiteModel, tflite: bytes) -> Manifest:
    data, model_path = job.data, job.model_path
    return Manifest(
        labels=list(data.labels),
        input=tm.input.to_dict(),
        output=tm.output.to_dict(),
        preprocessing=data.preprocessing.to_dict(),
        variant={
            "mode": variant.mode,
            "io": variant.io,
            "pruned": model_path.stem != "model",
            "float_layers": list(variant.float_layers),
        },
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
