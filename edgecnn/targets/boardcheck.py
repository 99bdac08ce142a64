"""Does a converted variant run on a board at all? Runtime, op support, arena and flash.

Latency estimates come from the board cost models; this module answers the yes/no part
with the real TFLite Micro allocator for microcontrollers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from edgecnn.core.records import Record
from edgecnn.targets.boards import Board
from edgecnn.targets.graph import GraphCost, read_graph
from edgecnn.targets.micro import MicroCheck, check_micro

# Measured in the linked firmware of make test-mcu's four models (TFLM + CMSIS-NN for a
# Cortex-M4F, arm-none-eabi-gcc 12.2 -O2, from the map file): the interpreter, allocator
# and planner take 26 KiB; the kernels with their CMSIS-NN code and shared helpers 10-15 KiB
# per distinct op (CONV_2D, DEPTHWISE_CONV_2D and ADD the most). An estimate, not a build;
# the board's own startup, C library and serial code come on top (25-36 KiB in that
# firmware, far more under an Arduino core).
RUNTIME_CODE_BYTES = 26 * 1024
KERNEL_CODE_BYTES = 12 * 1024
# TFLite Micro plans its arena from the shapes stored in the file; it cannot resize inputs.
DYNAMIC_ON_MCU = MicroCheck(
    ok=False,
    arena_bytes=None,
    problem="the input shape is dynamic; TFLite Micro needs a model converted with a fixed "
    "input shape (edgecnn quantize converts at a fixed shape)",
)


def kernel_code_bytes(op_names: set[str]) -> int:
    """Estimated flash for the TFLM runtime plus one kernel per distinct op."""
    return RUNTIME_CODE_BYTES + KERNEL_CODE_BYTES * len(op_names)


@dataclass(frozen=True)
class BoardCheck(Record):
    """The verdict for one variant on one board.

    Attributes:
        board: board id.
        fits: True when the variant can run there.
        reason: why not (empty when it fits).
        arena_bytes: TFLite Micro tensor arena (MCUs only).
        ram_margin_bytes: board RAM minus the arena (MCUs only).
        flash_margin_bytes: board flash minus the model and the estimated TFLM code
            (MCUs only).
    """

    board: str
    fits: bool
    reason: str = ""
    arena_bytes: int | None = None
    ram_margin_bytes: int | None = None
    flash_margin_bytes: int | None = None


def check_on_board(tflite: bytes, *, mode: str, board: Board) -> BoardCheck:
    """Checks one variant against one board."""
    return check_on_boards(tflite, mode=mode, boards=[board])[0]


def check_on_boards(
    tflite: bytes, *, mode: str, boards: Sequence[Board], graph: GraphCost | None = None
) -> list[BoardCheck]:
    """Checks one variant against several boards.

    The TFLite Micro allocation (a bisection of real allocations) and the graph are the same
    for every microcontroller, so they are computed once, and only when one is a target.
    """
    micro, flash = None, 0
    if any(b.is_mcu for b in boards):
        graph = graph or read_graph(tflite)
        micro = DYNAMIC_ON_MCU if graph.dynamic_input else check_micro(tflite)
        flash = len(tflite) + kernel_code_bytes({op.name for op in graph.ops})
    return [_verdict(len(tflite), mode, b, micro, flash) for b in boards]


def _verdict(size: int, mode: str, board: Board, micro, flash: int) -> BoardCheck:
    if not board.is_mcu:
        fits = size < board.ram_bytes
        return BoardCheck(board=board.id, fits=fits, reason="" if fits else "larger than RAM")
    flash_margin = None if board.flash_bytes is None else board.flash_bytes - flash
    if not micro.ok:
        return BoardCheck(
            board=board.id, fits=False, reason=micro.problem, flash_margin_bytes=flash_margin
        )
    ram_margin = board.ram_bytes - micro.arena_bytes
    reason = _mcu_reason(mode, ram_margin, flash_margin, micro.arena_bytes, board)
    return BoardCheck(
        board=board.id,
        fits=not reason,
        reason=reason,
        arena_bytes=micro.arena_bytes,
        ram_margin_bytes=ram_margin,
        flash_margin_bytes=flash_margin,
    )


def _mcu_reason(mode, ram_margin, flash_margin, arena, board) -> str:
    if mode != "int8":
        return (
            f"{mode} allocates in TFLite Micro but microcontroller kernels "
            f"({board.kernels}) are optimized for full-integer int8; use --mode int8"
        )
    if ram_margin < 0:
        return f"arena {arena:,} B exceeds the board's {board.ram_bytes:,} B RAM"
    if flash_margin is not None and flash_margin < 0:
        return f"model and TFLM code exceed the board's {board.flash_bytes:,} B flash"
    return ""
