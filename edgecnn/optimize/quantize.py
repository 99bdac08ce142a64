"""``edgecnn quantize``: convert a trained model to TFLite variants and measure each honestly.

Every variant is evaluated through the real LiteRT interpreter on the run's held-out test
split, with the run's preprocessing, and written with its manifest (``quantize_variant``);
the report ``quantize-<model>.json`` beside the model lists them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecnn.core import fileio
from edgecnn.core.errors import BadInputError
from edgecnn.core.modes import MODES, IOType, Mode
from edgecnn.core.records import Record
from edgecnn.core.shapes import parse_list
from edgecnn.optimize.calibration import DEFAULT_SAMPLES, draw_balanced, load_calibration
from edgecnn.optimize.quantize_variant import QuantizeJob, Variant, keras_reference, make_variant
from edgecnn.targets.boards import Board, get_board
from edgecnn.training import tfdeps
from edgecnn.training.modelio import load_keras_model
from edgecnn.training.prepare import PreparedData
from edgecnn.training.runs import check_model_fits, load_run, resolve_source

tfdeps.keras()

__all__ = ["QuantizeResult", "Variant", "parse_modes", "quantize"]


@dataclass(frozen=True)
class QuantizeResult(Record):
    """All variants of one model."""

    source_model: str
    keras_accuracy: float
    test_samples: int
    calibration: dict
    variants: tuple[Variant, ...]
    report_path: str


def parse_modes(modes: Sequence[str]) -> list[Mode]:
    """Validates mode names (comma lists allowed), keeping order and dropping repeats."""
    modes = [modes] if isinstance(modes, str) else list(modes)  # the API takes "int8,fp32"
    names = [m.lower() for m in parse_list(modes)]
    known = [m.value for m in MODES]
    empty = [text for text in modes if not text.strip(" ,")]  # --mode '' is no default
    if empty:
        raise BadInputError(f"--mode {empty[0]!r} names no mode; choose from {', '.join(known)}")
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
    targets = tuple(get_board(b) for b in boards)
    if max_drop is not None and not 0 <= max_drop < 1:
        raise BadInputError(f"--max-drop {max_drop} must be in [0, 1), e.g. 0.01 for 1 point")
    job = _load(
        source, wanted, calibration=calibration, calibration_samples=calibration_samples,
        seed=seed, io=io, max_drop=max_drop, boards=targets,
    )  # fmt: skip
    variants = tuple(make_variant(job, mode) for mode in wanted)
    return _write_report(job, variants)


def _load(
    source: str | Path,
    modes: list[Mode],
    *,
    calibration: str | Path | None,
    calibration_samples: int,
    seed: int,
    io: IOType,
    max_drop: float | None,
    boards: tuple[Board, ...],
) -> QuantizeJob:
    """Loads the run and its model, draws the calibration set, predicts with Keras."""
    found = resolve_source(source)
    run = found.require_run("quantization")
    # The variants go beside the model: refuse a folder we cannot write before converting.
    fileio.writable_folder(found.model_path.parent, "quantize")
    model = load_keras_model(found.model_path)
    record, data = load_run(run)
    check_model_fits(model, found.model_path, run, data)
    samples, calib_info = _calibration(data, calibration, calibration_samples, seed, modes)
    return QuantizeJob(
        model=model,
        model_path=found.model_path,
        data=data,
        record=record,
        reference=keras_reference(model, data),
        calibration=samples,
        calibration_info=calib_info,
        io=io,
        max_drop=max_drop,
        boards=boards,
    )


def _calibration(
    data: PreparedData, path: str | Path | None, count: int, seed: int, modes: list[Mode]
) -> tuple[np.ndarray | None, dict]:
    """The calibration samples (from ``path`` or drawn) and how they were chosen."""
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


def _write_report(job: QuantizeJob, variants: tuple[Variant, ...]) -> QuantizeResult:
    """Writes ``quantize-<model>.json`` beside the model and returns what it says."""
    model_path = job.model_path
    result = QuantizeResult(
        source_model=str(model_path),
        keras_accuracy=job.reference.accuracy,
        test_samples=len(job.data.arrays.y["test"]),
        calibration=job.calibration_info,
        variants=variants,
        report_path=str(model_path.with_name(f"quantize-{model_path.stem}.json")),
    )
    fileio.write_json(result.report_path, result.to_dict())
    return result
