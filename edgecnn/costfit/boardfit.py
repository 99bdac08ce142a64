"""``edgecnn boards calibrate``: fit the cost model to the boards' published latencies.

This gathers the points (the stored graph counts, rebuilt or emulated on request), fits
them (:mod:`edgecnn.costfit.fit`) and reports every point's error, in the fit and left out
of it, then stores the refit in the user's folder.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from edgecnn.core import fileio
from edgecnn.core.errors import BadInputError
from edgecnn.core.records import Record
from edgecnn.costfit.fit import fit, point_error, with_cpi
from edgecnn.costfit.points import Point, PointError
from edgecnn.targets.boards import Board, list_boards
from edgecnn.targets.costmodel import (
    COST_MODEL_PATH,
    Coefficients,
    cost_model_path,
    read_cost_model,
    user_cost_model_path,
)


@dataclass(frozen=True)
class CalibrationReport(Record):
    """The refitted coefficients and how well they reproduce the published points."""

    coefficients: Coefficients
    points: tuple[PointError, ...]
    skipped: tuple[str, ...]
    path: str

    def median_ape(self, family: str, *, loo: bool) -> float | None:
        """Median absolute percentage error of a family's points (None without points)."""
        errors = [
            p.loo_ape if loo else p.fitted_ape
            for p in self.points
            if (family == "mcu") == p.kernels.startswith(("cmsis", "esp", "reference"))
        ]
        return float(np.median(errors)) if errors else None

    def instruction_comparison(self) -> dict | None:
        """Median errors of the MAC and the instruction model on the points both cover."""
        both = [p for p in self.points if p.instr_loo_ms is not None]
        if not both:
            return None

        def median(values) -> float:
            return float(np.median(list(values)))

        return {
            "points": len(both),
            "mac_fitted": median(p.fitted_ape for p in both),
            "mac_leave_one_out": median(p.loo_ape for p in both),
            "instructions_fitted": median(p.instr_ape(loo=False) for p in both),
            "instructions_leave_one_out": median(p.instr_ape(loo=True) for p in both),
        }

    def to_dict(self) -> dict:
        """The fields with the error figures: the instruction model's comparison first, the
        median errors of each family before the path."""
        fields = super().to_dict()
        path = fields.pop("path")
        return {"instruction_model": self.instruction_comparison()} | fields | {
            "median_ape": {
                f: {
                    "fitted": self.median_ape(f, loo=False),
                    "leave_one_out": self.median_ape(f, loo=True),
                }
                for f in ("linux", "mcu")
            },
            "path": path,
        }


def calibrate(
    *, rebuild: bool = False, write: bool = True, emulate: bool = False
) -> CalibrationReport:
    """Refits the cost model from the boards' ``[[measured]]`` points.

    Args:
        rebuild: rebuild every reference graph (needs TensorFlow; a minute or two) instead
            of using the graph counts stored in cost-model.json.
        write: store the fitted coefficients in the user folder (``cost-model.json`` in
            EDGECNN_BOARDS or the platform's config folder), never in the installed package;
            estimates read them from there.
        emulate: count the instructions of the reference graphs on the emulated Cortex-M4F
            (needs TensorFlow, the Arm toolchain and QEMU; minutes) instead of using the
            stored counts.
    """
    boards = list_boards()  # first: a broken EDGECNN_BOARDS is reported before any work
    stored = _stored_features()
    features = _instruction_counts_only(stored) if rebuild else stored
    points, skipped = collect_points(boards, features)
    if emulate:
        from edgecnn.costfit.emulated import count_reference_instructions

        count_reference_instructions(points, features)
    coefficients = with_cpi(fit(points), points)
    errors = tuple(point_error(p, coefficients, points) for p in points)
    target = user_cost_model_path()
    if write:
        fileio.write_json(target, {"features": features, "coefficients": coefficients.to_dict()})
    return CalibrationReport(coefficients, errors, tuple(skipped), str(target))


def _stored_features() -> dict:
    """The graph counts of the last fits: the shipped fit's, with the user's refit over them
    (a refit from an older edgecnn lacks newer counts; a damaged one is what a calibration
    replaces, so it must not stop one)."""
    merged: dict = {}
    for path in dict.fromkeys((COST_MODEL_PATH, cost_model_path())):
        with contextlib.suppress(BadInputError):
            if path.exists():
                for graph, by_dtype in (read_cost_model(path).get("features") or {}).items():
                    for dtype, counts in by_dtype.items():
                        merged.setdefault(graph, {}).setdefault(dtype, {}).update(counts)
    return merged


def _instruction_counts_only(features: dict) -> dict:
    """What a rebuild keeps: the emulated instruction counts (only --emulate redoes them)."""
    return {
        graph: {dtype: {"instructions": c["instructions"]} for dtype, c in by_dtype.items()
                if "instructions" in c}
        for graph, by_dtype in features.items()
    }


# A graph's stored counts are rebuilt when one of these is missing (a refit by an older
# edgecnn, or a rebuild that kept only the instruction counts).
GRAPH_COUNT_KEYS = ("dense_macs", "depthwise_macs", "ops", "memory_bytes", "dtype")


def collect_points(boards: list[Board], features: dict) -> tuple[list[Point], list[str]]:
    """Points with a rebuildable graph (counts filled in ``features``), and the skipped ones."""
    points, skipped = [], []
    for board in boards:
        for m in board.measured:
            if m.graph is None or m.dtype not in ("fp32", "int8"):
                skipped.append(f"{board.id}: {m.model} ({m.dtype}) cannot be rebuilt offline")
                continue
            counts = features.setdefault(m.graph, {}).setdefault(m.dtype, {})
            if any(key not in counts for key in GRAPH_COUNT_KEYS):
                from edgecnn.costfit.refgraphs import graph_features

                counts.update(graph_features(m.graph, m.dtype))
            points.append(Point(board, m, features[m.graph][m.dtype]))
    return points, skipped
