"""``edgecnn estimate``: predicted latency, memory and fit of a .tflite on target boards.

Latency comes from the board cost model (edgecnn.targets.costmodel) applied op by op; for
microcontrollers the tensor arena and op support come from really allocating the model in
TFLite Micro. Estimates say what they rest on: coefficients fitted to published points of
the same group, or priors only.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

from edgecnn.core.errors import BadInputError
from edgecnn.core.records import Record
from edgecnn.targets.boardcheck import check_on_boards, kernel_code_bytes
from edgecnn.targets.boards import Board, get_board
from edgecnn.targets.costmodel import (
    Coefficients,
    group_key,
    instruction_latency_ms,
    load_coefficients,
    op_cycles,
    resolve,
)
from edgecnn.targets.graph import GraphCost, read_graph


@dataclass(frozen=True)
class OpEstimate(Record):
    """Predicted latency of one op."""

    index: int
    name: str
    kind: str
    macs: int
    latency_ms: float


@dataclass(frozen=True)
class BoardEstimate(Record):
    """Predicted latency and memory of one model on one board.

    Attributes:
        basis: ``fitted on <boards>`` when the coefficients were fitted to published points
            of this core/kernels group (a Zero 2 W borrows the Pi 3B+'s Cortex-A53 points,
            scaled by clock), ``prior`` when only the published priors back them.
        ram_bytes: MCU: the TFLite Micro arena; Linux: model plus all tensors (no reuse, an
            upper bound) — the Python process and interpreter add tens of MB on top.
        flash_bytes: model plus an estimate of the TFLM kernel code (MCU only).
    """

    board: str
    kind: str
    latency_ms: float | None
    threads: int
    basis: str
    ram_bytes: int
    arena_bytes: int | None
    flash_bytes: int | None
    fits: bool
    reason: str
    ops: tuple[OpEstimate, ...]


def estimate(
    model_path: str | os.PathLike,
    *,
    boards: list[str],
    threads: int | None = None,
    coefficients: Coefficients | None = None,
    input_shape: tuple[int, ...] | None = None,
    emulated: Emulated | None = None,
) -> list[BoardEstimate]:
    """Estimates ``model_path`` on each board id.

    Args:
        input_shape: the sizes (without the batch) to estimate a dynamic-input model at.
        emulated: the model's instructions counted on the emulated Cortex-M4F
            (``edgecnn.mcu.emulate``); microcontrollers of a group with a fitted CPI
            then get ``instructions x CPI`` instead of the MAC model.

    Raises:
        BadInputError: no boards, an unknown board, a missing or invalid .tflite, a dynamic
            input without ``input_shape``.
    """
    if not boards:
        raise BadInputError("name at least one --board (edgecnn boards lists them)")
    if threads is not None and threads < 1:
        raise BadInputError(f"--threads {threads} must be at least 1")
    targets = [get_board(b) for b in boards]
    path = Path(model_path)
    if not path.is_file():
        raise BadInputError(f"model file {path} does not exist")
    data = path.read_bytes()
    graph = read_graph(data, input_shape=input_shape)
    coefficients = coefficients or load_coefficients()
    checks = check_on_boards(data, mode=graph.dtype, boards=targets, graph=graph)
    rows = [
        _on_board(graph, board, check, coefficients, threads)
        for board, check in zip(targets, checks, strict=True)
    ]
    if emulated is None:
        return rows
    return [_from_instructions(row, board, emulated, coefficients)
            for row, board in zip(rows, targets, strict=True)]


@dataclass(frozen=True)
class Emulated:
    """Instructions of one invoke counted on the emulated Cortex-M4F (CMSIS-NN kernels).

    Attributes:
        instructions: the whole invoke.
        ops: (op name, instructions) per op in execution order.
    """

    instructions: int
    ops: tuple[tuple[str, int], ...]


def _from_instructions(row: BoardEstimate, board: Board, emulated: Emulated, coefficients):
    """``row`` with latency from instructions x CPI when the board's group has a CPI."""
    total = instruction_latency_ms(emulated.instructions, board, coefficients)
    if total is None:
        if board.is_mcu:  # say why --emulate changed nothing here
            return dataclasses.replace(
                row, basis=f"{row.basis} (no CPI fitted for {group_key(board, 'int8')}: MACs)"
            )
        return row
    if [name for name, _ in emulated.ops] == [op.name for op in row.ops]:
        ms_per_instruction = total / emulated.instructions
        ops = tuple(
            dataclasses.replace(op, latency_ms=round(count * ms_per_instruction, 4))
            for op, (_, count) in zip(row.ops, emulated.ops, strict=True)
        )
    else:  # not one profile event per graph op: keep the MAC split, scaled to the total
        scale = total / max(sum(o.latency_ms for o in row.ops), 1e-12)
        ops = tuple(dataclasses.replace(op, latency_ms=round(op.latency_ms * scale, 4))
                    for op in row.ops)
    group = group_key(board, "int8")
    boards = ", ".join(coefficients.cpi_fitted_from.get(group, [])) or "no board"
    return dataclasses.replace(
        row,
        latency_ms=round(total, 4),
        ops=ops,
        basis=f"{emulated.instructions:,} emulated instructions x CPI fitted on {boards}",
    )


def _on_board(graph: GraphCost, board: Board, check, coefficients, threads) -> BoardEstimate:
    used = 1 if board.is_mcu else min(threads or board.cores, board.cores)
    try:
        group, efficiency, family, scale = resolve(board, graph.dtype, coefficients, used, None)
    except KeyError as exc:
        return _without_latency(board, graph, check, used, f"no cost coefficients for {exc}")
    seconds_per_cycle = scale / (board.clock_mhz * 1e6)
    ops = tuple(
        OpEstimate(
            op.index,
            op.name,
            op.kind,
            op.macs,
            round(
                1000
                * seconds_per_cycle
                * op_cycles(op.kind, op.macs, efficiency=efficiency, family=family,
                            moved_bytes=op.activation_bytes),
                4,
            ),
        )
        for op in graph.ops
    )
    return BoardEstimate(
        board=board.id,
        kind=str(board.kind),
        latency_ms=round(sum(o.latency_ms for o in ops), 4),
        threads=used,
        basis=coefficients.basis(group),
        ram_bytes=_ram(board, graph, check),
        arena_bytes=check.arena_bytes,
        flash_bytes=_flash(board, graph),
        fits=check.fits,
        reason=check.reason,
        ops=ops,
    )


def _without_latency(board, graph, check, used, reason) -> BoardEstimate:
    return BoardEstimate(
        board=board.id,
        kind=str(board.kind),
        latency_ms=None,
        threads=used,
        basis="none",
        ram_bytes=_ram(board, graph, check),
        arena_bytes=check.arena_bytes,
        flash_bytes=_flash(board, graph),
        fits=check.fits,
        reason=check.reason or reason,
        ops=(),
    )


def _ram(board: Board, graph: GraphCost, check) -> int:
    if board.is_mcu:
        return check.arena_bytes or 0
    return graph.model_bytes + graph.tensor_bytes


def _flash(board: Board, graph: GraphCost) -> int | None:
    if not board.is_mcu:
        return None
    return graph.model_bytes + kernel_code_bytes({op.name for op in graph.ops})
