"""Checks a .tflite against TFLite Micro by really allocating it in the TFLM interpreter.

The tensor-arena size and the op support come from the real TFLM kernels (``tflite-micro``
on PyPI), not from a table: what allocates here allocates on the board, given the same
kernels.
"""

from __future__ import annotations

import importlib.util
import json
import re
import signal
import subprocess
import sys
from dataclasses import dataclass

from edgecnn.core import optional
from edgecnn.core.records import Record
from edgecnn.targets.microchild import ARENA_RESOLUTION, FIRST_ARENA_GUESS, Search

__all__ = ["ARENA_RESOLUTION", "FIRST_ARENA_GUESS", "MicroCheck", "check_micro"]

# The child that runs the allocations (a module attribute so tests can make it crash).
CHILD_CODE = "from edgecnn.targets.microchild import main; main()"
CHILD_TIMEOUT_S = 300
# One child per check, plus one per crash; a search has at most about 22 steps.
MAX_CHILDREN = 32


@dataclass(frozen=True)
class MicroCheck(Record):
    """Whether a model runs on TFLite Micro, and the arena it needs.

    Attributes:
        ok: True when TFLM allocated the model.
        arena_bytes: the tensor arena TFLM used (None when it failed).
        problem: why it failed, in one line (empty when ok).
    """

    ok: bool
    arena_bytes: int | None
    problem: str = ""


def check_micro(tflite: bytes) -> MicroCheck:
    """Allocates ``tflite`` in TFLite Micro; reports the smallest arena that works, or why not.

    The arena is found by bisection on real allocations (after trying about what a roomy
    arena used): TFLM lays out a tight arena differently from a roomy one, so the
    allocator's own report of a roomy arena is not the size a board needs. The allocations
    run in a child process (:mod:`edgecnn.targets.microchild`), because TFLM crashes
    (SIGSEGV) in some arenas too small for a model instead of refusing them: such a crash
    counts as "does not fit" and a new child goes on from there; a crash in the roomy first
    arena is the problem reported.

    Raises:
        MissingDependencyError: tflite-micro is not installed.
    """
    if importlib.util.find_spec("tflite_micro") is None:
        optional.require("tflite_micro", extra="mcu", package="tflite-micro")
    search, problem = Search(), ""
    for _ in range(MAX_CHILDREN):
        problem = _run_child(tflite, search)
        if problem or search.finished:
            break
    problem = problem or (_problem(search.log) if search.log else "")
    if problem or not search.finished:
        problem = problem or "TFLite Micro kept crashing while sizing the arena"
        return MicroCheck(ok=False, arena_bytes=None, problem=problem)
    return MicroCheck(ok=True, arena_bytes=search.high)


def _run_child(tflite: bytes, search: Search) -> str:
    """Goes on with ``search`` in a child, updating it; returns a problem, or "" if none."""
    command = [sys.executable, "-c", CHILD_CODE, search.to_json()]
    try:
        proc = subprocess.run(command, input=tflite, capture_output=True, timeout=CHILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"TFLite Micro did not allocate the model within {CHILD_TIMEOUT_S} s"
    trying = None
    for line in proc.stdout.decode("utf-8", errors="replace").splitlines():
        event = json.loads(line) if line.startswith("{") else {}
        if "try" in event:
            trying = event["try"]
        elif "arena" in event:
            search.apply(event)
            trying = None
    if proc.returncode < 0:
        return _crashed(search, trying, _signal_name(-proc.returncode))
    if not search.finished:
        errors = proc.stderr.decode("utf-8", errors="replace").strip().splitlines()
        return f"the TFLite Micro check failed: {errors[-1] if errors else 'no output'}"
    return ""


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _crashed(search: Search, arena: int | None, name: str) -> str:
    if arena is None:
        return f"TFLite Micro crashed ({name}) while loading the model"
    if search.high is None:
        return (
            f"TFLite Micro crashed ({name}) allocating the model in a {arena:,} B arena; "
            "it cannot run this model"
        )
    search.apply({"arena": arena, "ok": False})  # crashes hit arenas too small for the model
    return ""


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
