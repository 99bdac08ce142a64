"""Checks a .tflite against TFLite Micro by really allocating it in the TFLM interpreter.

The tensor-arena size and the op support come from the real TFLM kernels (``tflite-micro``
on PyPI), not from a table: what allocates here allocates on the board, given the same
kernels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edgecnn.core import optional
from edgecnn.core.nativeio import capture_fd

# Larger than any MCU's RAM: a model that fails here fails for a reason other than size.
FIRST_ARENA_GUESS = 16 * 1024 * 1024
# TFLM aligns arena allocations to 16 bytes; finer bisection would only chase alignment.
ARENA_RESOLUTION = 16


@dataclass(frozen=True)
class MicroCheck:
    """Whether a model runs on TFLite Micro, and the arena it needs.

    Attributes:
        ok: True when TFLM allocated the model.
        arena_bytes: the tensor arena TFLM used (None when it failed).
        problem: why it failed, in one line (empty when ok).
    """

    ok: bool
    arena_bytes: int | None
    problem: str = ""

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return dict(self.__dict__)


def check_micro(tflite: bytes) -> MicroCheck:
    """Allocates ``tflite`` in TFLite Micro; reports the smallest arena that works, or why not.

    The arena is found by bisection on real allocations: TFLM lays out a tight arena
    differently from a roomy one, so the allocator's own report of a roomy arena is not the
    size a board needs.
    """
    runtime = optional.require(
        "tflite_micro.python.tflite_micro.runtime", extra="mcu", package="tflite-micro"
    )
    ok, log = _allocates(runtime, tflite, FIRST_ARENA_GUESS)
    if not ok:
        return MicroCheck(ok=False, arena_bytes=None, problem=_problem(log))
    low, high = 0, FIRST_ARENA_GUESS  # invariant: low fails (or is 0), high allocates
    while high - low > ARENA_RESOLUTION:
        middle = (low + high) // 2
        low, high = (low, middle) if _allocates(runtime, tflite, middle)[0] else (middle, high)
    return MicroCheck(ok=True, arena_bytes=high)


def _allocates(runtime, tflite: bytes, arena: int) -> tuple[bool, str]:
    with capture_fd(2) as errors, capture_fd(1):
        try:
            runtime.Interpreter.from_bytes(tflite, arena_size=arena)
            ok = True
        except RuntimeError:
            ok = False
    return ok, errors.text


def _problem(log: str) -> str:
    """The most telling line of a TFLM allocation failure."""
    if "Hybrid models are not supported" in log:
        return (
            "dynamic-range (hybrid) models do not run on TFLite Micro; use full-integer "
            "int8 (edgecnn quantize --mode int8)"
        )
    if "Node DEQUANTIZE" in log and "failed to prepare" in log:
        return ("float16 weights (fp16 models) do not run on TFLite Micro; use full-integer "
                "int8 (edgecnn quantize --mode int8)")
    missing = re.findall(r"Didn't find op for builtin opcode '(\w+)'", log)
    if missing:
        return f"TFLite Micro has no kernel for op(s) {', '.join(sorted(set(missing)))}"
    failed = re.findall(r"Node (\w+) \(number \d+\) failed to prepare", log)
    if failed:
        return f"TFLite Micro cannot prepare op {failed[0]} (unsupported type or options)"
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    return lines[-1] if lines else "TFLite Micro failed to allocate the model"
