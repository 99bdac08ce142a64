"""Picking the variant with the best accuracy that meets every budget on every board."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from edgecnn.pipeline.config import Budgets


@dataclass(frozen=True)
class BoardFigures:
    """A variant's estimate on one board."""

    board: str
    latency_ms: float | None
    arena_bytes: int | None
    fits: bool
    reason: str = ""


UNITS = {"ms": " ms", "kb": " KiB"}  # by the budget name's suffix


@dataclass(frozen=True)
class Candidate:
    """One variant (a pruning ratio x a quantization mode) and its measured figures.

    ``accuracy`` is what variants are ranked by: the pipeline gives the validation split's,
    never the test split's (choosing on the test split would bias the accuracy it reports).
    ``reference``, when given, is the accuracy its drop is measured from (its own model
    family's Keras model, when the pipeline tries several families).
    """

    name: str
    accuracy: float
    size_bytes: int
    boards: tuple[BoardFigures, ...]
    reference: float | None = None


@dataclass(frozen=True)
class Check:
    """One budget checked for one variant (on one board, where it applies)."""

    budget: str
    board: str | None
    value: float | None
    limit: float | None
    ok: bool

    def describe(self) -> str:
        where = f" on {self.board}" if self.board else ""
        if self.budget == "runs":
            return f"runs{where}: {self.limit}"
        if self.value is None:
            return f"{self.budget}{where}: no estimate to hold against {self.limit:g}"
        over = self.value - self.limit if self.limit is not None else 0.0
        unit = UNITS.get(self.budget.rsplit("_", 1)[-1], "")
        value, limit, over = (_figure(v) + unit for v in (self.value, self.limit, over))
        return f"{self.budget}{where}: {value} > {limit} (+{over})"


def _figure(value: float) -> str:
    """Four significant digits, but whole numbers rather than exponents from 10,000 up."""
    return f"{value:.0f}" if abs(value) >= 1e4 else f"{value:.4g}"


@dataclass(frozen=True)
class Selection:
    """The chosen variant (or None) and why each budget was or was not met."""

    chosen: Candidate | None
    misses: dict[str, tuple[Check, ...]]
    unmet: tuple[str, ...]

    @property
    def met(self) -> bool:
        return self.chosen is not None


def select(
    candidates: Sequence[Candidate], budgets: Budgets, *, reference_accuracy: float | None = None
) -> Selection:
    """Best accuracy among the variants that meet every budget; ties go to the smaller file.

    The accuracy drop of each candidate is measured from its own ``reference``, else from
    ``reference_accuracy``. When none meets every budget, ``unmet`` says, for each budget
    no variant met, the closest miss.
    """
    checks = {c.name: _checks(c, budgets, _reference(c, reference_accuracy)) for c in candidates}
    misses = {name: tuple(ch for ch in found if not ch.ok) for name, found in checks.items()}
    passing = [c for c in candidates if not misses[c.name]]
    chosen = max(passing, key=lambda c: (c.accuracy, -c.size_bytes), default=None)
    return Selection(chosen, misses, () if chosen else _unmet(checks, candidates, misses))


def _reference(c: Candidate, default: float | None) -> float:
    reference = c.reference if c.reference is not None else default
    if reference is None:
        raise ValueError(f"candidate {c.name!r} has no reference accuracy to hold it against")
    return reference


def _checks(c: Candidate, budgets: Budgets, reference: float) -> list[Check]:
    found = [Check("runs", b.board, None, b.reason or "does not fit", b.fits) for b in c.boards]
    drop = round(reference - c.accuracy, 6)
    found.append(_limit("max_accuracy_drop", None, drop, budgets.max_accuracy_drop))
    size_kb = c.size_bytes / 1024
    if not c.boards or any(b not in budgets.per_board for b in (f.board for f in c.boards)):
        found.append(_limit("max_size_kb", None, size_kb, budgets.max_size_kb))
    for b in c.boards:
        limits = budgets.on(b.board)
        found.append(_limit("max_latency_ms", b.board, b.latency_ms, limits.max_latency_ms))
        if b.arena_bytes is not None:
            found.append(_limit("max_arena_kb", b.board, b.arena_bytes / 1024, limits.max_arena_kb))
        if b.board in budgets.per_board and limits.max_size_kb is not None:
            found.append(_limit("max_size_kb", b.board, size_kb, limits.max_size_kb))
    return found


def _limit(name: str, board: str | None, value: float | None, limit: float | None) -> Check:
    if limit is None:
        return Check(name, board, value, limit, True)
    if value is None:  # no estimate for this board: cannot claim the budget holds
        return Check(name, board, None, limit, False)
    return Check(name, board, round(value, 4), limit, value <= limit)


def _unmet(checks, candidates, misses) -> tuple[str, ...]:
    """What kept every variant out: each budget none met, or the nearest misses."""
    alone = _unmet_alone(checks)
    if alone or not candidates:
        return alone or ("there are no variants to choose from",)
    # Each budget is met by some variant, but none meets them all together.
    nearest = sorted(candidates, key=lambda c: (len(misses[c.name]), -c.accuracy))[:2]
    return tuple(
        f"no variant meets every budget at once; {c.name} misses "
        + "; ".join(ch.describe() for ch in misses[c.name])
        for c in nearest
    )


def _unmet_alone(checks: dict[str, list[Check]]) -> tuple[str, ...]:
    """For each (budget, board) no variant met, the variant that came closest."""
    by_key: dict[tuple[str, str | None], list[tuple[str, Check]]] = {}
    for name, found in checks.items():
        for ch in found:
            by_key.setdefault((ch.budget, ch.board), []).append((name, ch))
    lines = []
    for entries in by_key.values():
        if any(ch.ok for _, ch in entries):
            continue
        name, closest = min(entries, key=lambda e: (e[1].value is None, e[1].value or 0.0))
        lines.append(f"nothing met {closest.describe()} (closest: {name})")
    return tuple(lines)
