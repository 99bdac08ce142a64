"""Budgets: the limits every variant must meet, globally and per board, and the checks of
the ``[budgets]`` table of ``edgecnn.toml``."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, fields

from edgecnn.core.errors import BadInputError
from edgecnn.core.records import Record
from edgecnn.pipeline.configkeys import check_type


@dataclass(frozen=True)
class BoardBudgets(Record):
    """Limits on one board that replace the global ones there (None = the global limit)."""

    max_latency_ms: float | None = None
    max_arena_kb: float | None = None
    max_size_kb: float | None = None


@dataclass(frozen=True)
class Budgets(Record):
    """Limits a variant must meet on every target board (None = no limit).

    ``per_board`` replaces the latency, arena and size limits on single boards, e.g. 5 ms
    on a Raspberry Pi but 100 ms on a microcontroller (``[budgets.<board id>]`` in TOML).
    """

    max_latency_ms: float | None = None
    max_arena_kb: float | None = None
    max_size_kb: float | None = None
    max_accuracy_drop: float | None = None
    per_board: dict[str, BoardBudgets] = field(default_factory=dict, hash=False)

    def on(self, board: str) -> BoardBudgets:
        """The latency, arena and size limits that hold on ``board``."""
        own = self.per_board.get(board, BoardBudgets())
        return BoardBudgets(
            **{
                f.name: getattr(own, f.name) if getattr(own, f.name) is not None
                else getattr(self, f.name)
                for f in fields(BoardBudgets)
            }
        )  # fmt: skip


_BUDGET_KEYS = {f.name for f in fields(Budgets)} - {"per_board"}
_BOARD_BUDGET_KEYS = {f.name for f in fields(BoardBudgets)}


def budget_table(where, budgets) -> dict:
    """The ``budgets`` value as one flat table, board sub-tables included (as
    :meth:`PipelineConfig.to_dict` saves them, under ``per_board``).

    Raises:
        BadInputError: ``budgets`` is not a table.
    """
    if not isinstance(budgets, dict):
        raise BadInputError(
            f"{where('budgets')}: budgets must be a table ([budgets] then lines like "
            f"max_latency_ms = 5), got {budgets!r}"
        )
    return {k: v for k, v in budgets.items() if v is not None and k != "per_board"} | (
        budgets.get("per_board") or {}  # as saved by to_dict
    )


def parse_budgets(where, table: dict) -> Budgets:
    """The ``[budgets]`` table; a sub-table named after a target board overrides there."""
    flat = {k: v for k, v in table.items() if not isinstance(v, dict)}
    per_board = {
        board: BoardBudgets(**_limits(where, sub, _BOARD_BUDGET_KEYS, f"budgets.{board}"))
        for board, sub in table.items()
        if isinstance(sub, dict)
    }
    return Budgets(**_limits(where, flat, _BUDGET_KEYS, "budgets"), per_board=per_board)


def check_budget_boards(where, budgets: Budgets, boards: Iterable[str]) -> None:
    """Refuses board budgets without a target board to check them on.

    Raises:
        BadInputError: a latency or arena budget with no boards, or a ``[budgets.<id>]``
            table for a board that is not a target.
    """
    boards = tuple(boards)
    for key in ("max_latency_ms", "max_arena_kb"):
        if getattr(budgets, key) is not None and not boards:
            raise BadInputError(
                f"{where(key)}: {key} is checked on target boards; name at least one in "
                "boards (edgecnn boards lists them)"
            )
    for board in budgets.per_board:
        if board not in boards:
            raise BadInputError(
                f"{where(board)}: [budgets.{board}] names a board that is not a target; "
                f"boards = {list(boards)}"
            )


def _limits(where, table: dict, known: set[str], name: str) -> dict[str, float]:
    where = where.within(name)  # the key's line inside [name], not the first of that key
    table = {k: v for k, v in table.items() if v is not None}  # None (from Python): unset
    for key, value in table.items():
        if key not in known:
            raise BadInputError(
                f"{where(key)}: unknown key {key!r} in [{name}]; known: {', '.join(sorted(known))}"
                + ("" if name != "budgets" else ", or a [budgets.<board id>] table")
            )
        check_type(where, key, value, (int, float))
        if not math.isfinite(value):  # TOML and float() take nan and inf; no limit compares
            raise BadInputError(
                f"{where(key)}: budget {key} must be a finite number, got {value}; "
                "leave it out for no limit"
            )
        if value < 0:
            raise BadInputError(f"{where(key)}: budget {key} must not be negative, got {value}")
    return {k: float(v) for k, v in table.items()}
