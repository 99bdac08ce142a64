"""The published latencies a calibration fits, and each one's error after the fit.

A :class:`Point` is one board's ``[[measured]]`` figure with the counts of the graph it
measured; a :class:`PointError` sets the estimate beside it, in the fit and left out of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgecnn.core.records import Record
from edgecnn.targets.boards import Board, Measurement
from edgecnn.targets.costmodel import (
    Coefficients,
    group_key,
    instruction_latency_ms,
    latency_ms,
)


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
class PointError(Record):
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
        """The fields and the errors, rounded to 4 places."""
        return super().to_dict() | {
            "fitted_ape": round(self.fitted_ape, 4),
            "loo_ape": round(self.loo_ape, 4),
            "instr_fitted_ape": _rounded(self.instr_ape(loo=False)),
            "instr_loo_ape": _rounded(self.instr_ape(loo=True)),
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
