"""``edgecnn boards calibrate``: fit the cost model to the boards' published latencies.

The fit is least squares on log latency, with the published priors as weak anchors (one
e-fold of standard deviation), so groups with one point move toward it and groups with
none keep their prior. Every point's error is reported, in the fit and left out of it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from edgecnn.core import fileio, optional
from edgecnn.core.errors import BadInputError, RunFailedError
from edgecnn.targets.boards import Board, Measurement, list_boards
from edgecnn.targets.costmodel import (
    COST_MODEL_PATH,
    FAMILY_PRIORS,
    Coefficients,
    cost_model_path,
    group_key,
    instruction_latency_ms,
    latency_ms,
    read_cost_model,
    user_cost_model_path,
)

PRIOR_SIGMA = 1.0  # in natural-log units: a prior is trusted to about a factor of e


@dataclass(frozen=True)
class Point:
    """One published latency with the counts of the graph it measured."""

    board: Board
    measurement: Measurement
    features: dict

    @property
    def group(self) -> str:
        return group_key(self.board, self.features["dtype"], self.measurement.kernels)

    @property
    def family(self) -> str:
        return "mcu" if self.board.is_mcu else "linux"

    @property
    def instructions(self) -> int | None:
        """Emulated instructions per invoke of this point's graph in its group, if counted."""
        return (self.features.get("instructions") or {}).get(self.group)

    def predict_from_instructions(self, coefficients: Coefficients) -> float | None:
        if self.instructions is None:
            return None
        return instruction_latency_ms(
            self.instructions, self.board, coefficients, kernels=self.measurement.kernels
        )

    def predict(self, coefficients: Coefficients) -> float:
        return latency_ms(
            self.features,
            self.board,
            coefficients,
            threads=self.measurement.threads,
            kernels=self.measurement.kernels,
        )


@dataclass(frozen=True)
class PointError:
    """Estimate against measurement for one point, in the fit and left out."""

    board: str
    family: str
    model: str
    dtype: str
    kernels: str
    measured_ms: float
    fitted_ms: float
    loo_ms: float
    instructions: int | None = None
    instr_fitted_ms: float | None = None
    instr_loo_ms: float | None = None

    @property
    def fitted_ape(self) -> float:
        return abs(self.fitted_ms - self.measured_ms) / self.measured_ms

    @property
    def loo_ape(self) -> float:
        return abs(self.loo_ms - self.measured_ms) / self.measured_ms

    def instr_ape(self, *, loo: bool) -> float | None:
        """The instruction model's error (None without an instruction count or CPI)."""
        value = self.instr_loo_ms if loo else self.instr_fitted_ms
        return None if value is None else abs(value - self.measured_ms) / self.measured_ms

    def to_dict(self) -> dict:
        return dict(self.__dict__) | {
            "fitted_ape": round(self.fitted_ape, 4),
            "loo_ape": round(self.loo_ape, 4),
            "instr_fitted_ape": _rounded(self.instr_ape(loo=False)),
            "instr_loo_ape": _rounded(self.instr_ape(loo=True)),
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass(frozen=True)
class CalibrationReport:
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
        return {
            "instruction_model": self.instruction_comparison(),
            "coefficients": self.coefficients.to_dict(),
            "points": [p.to_dict() for p in self.points],
            "skipped": list(self.skipped),
            "median_ape": {
                f: {
                    "fitted": self.median_ape(f, loo=False),
                    "leave_one_out": self.median_ape(f, loo=True),
                }
                for f in ("linux", "mcu")
            },
            "path": self.path,
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
        from edgecnn.targets.calibrate.emulated import count_reference_instructions

        count_reference_instructions(points, features)
    coefficients = with_cpi(fit(points), points)
    errors = tuple(_point_error(p, coefficients, points) for p in points)
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
                from edgecnn.targets.calibrate.refgraphs import graph_features

                counts.update(graph_features(m.graph, m.dtype))
            points.append(Point(board, m, features[m.graph][m.dtype]))
    return points, skipped


def fit(points: list[Point], base: Coefficients | None = None) -> Coefficients:
    """Least-squares fit of the groups and families the points cover."""
    optimize = optional.require("scipy.optimize", extra="train", package="scipy")
    base = base or Coefficients.priors()
    groups = sorted({p.group for p in points})
    families = sorted({p.family for p in points})
    names = [("g", g, None) for g in groups] + [
        ("f", f, k) for f in families for k in FAMILY_PRIORS[f]
    ]
    prior = np.log([_value(base, n) for n in names])

    def residuals(theta: np.ndarray) -> np.ndarray:
        coefficients = _with(base, names, np.exp(theta))
        data = [math.log(p.predict(coefficients) / p.measurement.latency_ms) for p in points]
        return np.concatenate([data, (theta - prior) / PRIOR_SIGMA])

    result = optimize.least_squares(residuals, prior, method="lm", xtol=1e-12, ftol=1e-12)
    if not result.success:
        raise RunFailedError(f"cost-model fit did not converge: {result.message}")
    fitted = _with(base, names, np.exp(result.x))
    sources = {g: sorted({p.board.id for p in points if p.group == g}) for g in groups}
    return Coefficients(fitted.groups, fitted.families, sources)


def _value(c: Coefficients, name: tuple) -> float:
    kind, key, field = name
    return c.groups[key] if kind == "g" else c.families[key][field]


def _with(base: Coefficients, names: list[tuple], values: np.ndarray) -> Coefficients:
    groups = dict(base.groups)
    families = {k: dict(v) for k, v in base.families.items()}
    for (kind, key, field), value in zip(names, values, strict=True):
        if kind == "g":
            groups[key] = float(value)
        else:
            families[key][field] = float(value)
    return Coefficients(groups, families)


def with_cpi(coefficients: Coefficients, points: list[Point]) -> Coefficients:
    """``coefficients`` with a CPI per group that has points with instruction counts.

    CPI is the geometric mean of measured cycles / counted instructions over the group's
    points: the least-squares fit of log latency with one coefficient.
    """
    logs: dict[str, list[float]] = {}
    sources: dict[str, set[str]] = {}
    for p in points:
        if p.instructions:
            cycles = p.measurement.latency_ms / 1000 * p.board.clock_mhz * 1e6
            logs.setdefault(p.group, []).append(math.log(cycles / p.instructions))
            sources.setdefault(p.group, set()).add(p.board.id)
    return dataclasses.replace(
        coefficients,
        cpi={g: math.exp(sum(v) / len(v)) for g, v in logs.items()},
        cpi_fitted_from={g: sorted(b) for g, b in sources.items()},
    )


def _point_error(point: Point, coefficients: Coefficients, points: list[Point]) -> PointError:
    others = [p for p in points if p is not point]
    m = point.measurement
    left_out = with_cpi(coefficients, others)
    instr_fitted = point.predict_from_instructions(coefficients)
    instr_loo = point.predict_from_instructions(left_out)
    return PointError(
        board=point.board.id,
        family=point.family,
        model=m.model,
        dtype=m.dtype,
        kernels=m.kernels or point.board.kernels,
        measured_ms=m.latency_ms,
        fitted_ms=round(point.predict(coefficients), 3),
        loo_ms=round(point.predict(fit(others)), 3),
        instructions=point.instructions,
        instr_fitted_ms=None if instr_fitted is None else round(instr_fitted, 3),
        instr_loo_ms=None if instr_loo is None else round(instr_loo, 3),
    )
