"""What a sketch may be called, which boards take one, and whether the model fits the board.

Shared by ``export arduino`` and ``export firmware``: the tensor arena's margin over the
TFLite Micro measurement, the RAM and flash checks, the sketch name and the MCU board.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

from edgecnn.core.errors import BadInputError
from edgecnn.targets.boards import Board, get_board, list_boards

ARENA_MARGIN_FRACTION = 0.10
ARENA_MARGIN_BYTES = 1024
ARENA_ALIGNMENT = 16

# Arduino: a letter or digit, then letters, digits, "_", "-" or "."; at most 63 characters.
SKETCH_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


def sketch_name(name: str | None, model_path: str | os.PathLike) -> str:
    """``name`` checked, or one made from the model file's stem."""
    if name is None:
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(model_path).stem).lstrip("_.-")[:63]
        return stem or "edgecnn_model"
    if not SKETCH_NAME.match(name):
        raise BadInputError(
            f"sketch name {name!r} is not a valid Arduino sketch name; use a letter or digit "
            "followed by letters, digits, '_', '-' or '.', at most 63 characters"
        )
    return name


def arena_with_margin(arena_bytes: int) -> int:
    """The measured arena plus 10% and 1 KiB, rounded up to 16 bytes.

    The measurement uses TFLite Micro's reference kernels on a 64-bit PC; the board's
    optimized kernels (CMSIS-NN) request scratch buffers and its 32-bit bookkeeping differs.
    """
    padded = arena_bytes + math.ceil(arena_bytes * ARENA_MARGIN_FRACTION) + ARENA_MARGIN_BYTES
    return -(-padded // ARENA_ALIGNMENT) * ARENA_ALIGNMENT


def mcu_board(board_id: str) -> Board:
    """The board ``board_id``, which must be a microcontroller."""
    board = get_board(board_id)
    if not board.is_mcu:
        mcus = ", ".join(b.id for b in list_boards() if b.is_mcu)
        raise BadInputError(
            f"board {board_id!r} ({board.name}) is a Linux board running LiteRT, not a "
            f"microcontroller; Arduino export needs an MCU board: {mcus}"
        )
    return board


def check_fits(arena: int, model_bytes: int, board: Board, *, audio_ram: int = 0) -> None:
    """Refuses a model whose arena (with margin) and audio buffers or bytes exceed the board."""
    needed = arena_with_margin(arena) + audio_ram
    if needed > board.ram_bytes:
        audio = f" and {audio_ram:,} B of audio clip, features and front end" if audio_ram else ""
        raise BadInputError(
            f"the tensor arena needs {needed - audio_ram:,} B ({arena:,} B measured by TFLite "
            f"Micro plus margin){audio} but {board.name} has {board.ram_bytes:,} B of RAM: "
            f"{needed - board.ram_bytes:,} B too much; prune or shrink the model"
        )
    if board.flash_bytes is not None and model_bytes > board.flash_bytes:
        raise BadInputError(
            f"the model is {model_bytes:,} B but {board.name} has {board.flash_bytes:,} B of "
            f"flash: {model_bytes - board.flash_bytes:,} B too much; prune or shrink the model"
        )
