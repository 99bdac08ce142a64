"""The cost model's least-squares fit, the CPI of the instruction model, leave-one-out errors.

The fit is least squares on log latency with the published priors as weak anchors (one
e-fold of standard deviation), so groups with one point move toward it and groups with
none keep their prior.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from edgecnn.core import optional
from edgecnn.core.errors import RunFailedError
from edgecnn.costfit.points import Point, PointError
from edgecnn.targets.costmodel import FAMILY_PRIORS, Coefficients

PRIOR_SIGMA = 1.0  # in natural-log units: a prior is trusted to about a factor of e


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


def point_error(point: Point, coefficients: Coefficients, points: list[Point]) -> PointError:
    """``point``'s estimates by ``coefficients`` and by a fit without it, beside its figure."""
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
