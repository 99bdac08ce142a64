"""The quantization modes and I/O types: the one list every layer checks against."""

from __future__ import annotations

from enum import StrEnum


class Mode(StrEnum):
    """Quantization variants."""

    FP32 = "fp32"
    FP16 = "fp16"
    DYNAMIC = "dynamic"
    INT8 = "int8"
    INT16X8 = "int16x8"

    @property
    def needs_calibration(self) -> bool:
        """Full-integer modes need representative data for activation ranges."""
        return self in (Mode.INT8, Mode.INT16X8)


class IOType(StrEnum):
    """Input/output tensor type of full-integer models."""

    INT = "int"
    FLOAT = "float"


MODES: tuple[Mode, ...] = tuple(Mode)
