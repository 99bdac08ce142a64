"""What a pipeline run measured for each variant, and what it chose."""

from __future__ import annotations

from dataclasses import dataclass

from edgecnn.core.records import Record
from edgecnn.pipeline.select import BoardFigures, Candidate


@dataclass(frozen=True)
class BoardRow(Record):
    """A variant's estimate on one target board.

    ``arena_bytes`` is the TFLite Micro tensor arena on a microcontroller (measured by
    allocating the model) and the tensor memory on a Linux board (all tensors, no reuse: an
    upper bound); ``max_arena_kb`` is checked against it.
    """

    board: str
    kind: str
    latency_ms: float | None
    arena_bytes: int | None
    ram_bytes: int
    flash_bytes: int | None
    fits: bool
    reason: str
    basis: str

    def figures(self) -> BoardFigures:
        """The numbers budget selection looks at."""
        return BoardFigures(self.board, self.latency_ms, self.arena_bytes, self.fits, self.reason)


@dataclass(frozen=True)
class VariantReport(Record):
    """One variant (a pruning ratio x a quantization mode) and everything measured on it.

    Accuracy, delta and agreement are on the run's held-out test split; delta and agreement
    are against the unpruned Keras model. ``val_accuracy`` is on the validation split: the
    budgets and the choice look at it only, so the test figures stay an unbiased report.
    """

    name: str
    prune_ratio: float
    mode: str
    path: str
    size_bytes: int
    accuracy: float
    correct: int
    test_samples: int
    delta: float
    agreement: float
    val_accuracy: float
    val_samples: int
    host_p50_ms: float
    boards: tuple[BoardRow, ...]
    misses: tuple[str, ...] = ()
    family: str = ""

    def candidate(self, reference: float | None = None) -> Candidate:
        """This variant as budget selection sees it: ranked by its validation accuracy, its
        accuracy drop measured from ``reference`` (its family's Keras model) when given."""
        boards = tuple(b.figures() for b in self.boards)
        return Candidate(self.name, self.val_accuracy, self.size_bytes, boards, reference)

    def on(self, board: str) -> BoardRow | None:
        """The row of one board, if estimated."""
        return next((b for b in self.boards if b.board == board), None)


@dataclass(frozen=True)
class FamilyReport(Record):
    """One model family: its trained Keras model (the reference its variants are compared
    to) and its best variant.

    ``best`` is the family's variant with the best validation accuracy among those that
    meet every budget (ties: the smaller file) or, when none does, among all of them;
    ``best_meets`` says which.
    """

    name: str
    run_dir: str
    reference_accuracy: float
    reference_val_accuracy: float
    params: int
    macs: int
    train_seconds: float
    best: str | None
    best_meets: bool


@dataclass(frozen=True)
class PipelineResult(Record):
    """A whole pipeline run: the variants, the choice, the report files and provenance.

    Attributes:
        chosen: the name of the variant with the best validation accuracy within every
            budget on every board, or None when none met them (``unmet`` then says which
            budget and by how much).
        reference_accuracy: the Keras model's test accuracy (the variants' test figures
            are compared to it); ``reference_val_accuracy`` its validation accuracy (the
            accuracy budget is held against it).
        reused: steps taken from an earlier run because their inputs were unchanged.
        families: each model family tried, in the order given; ``run_dir``, the reference
            accuracies and the provenance's figures are those of the chosen variant's
            family (the first family when nothing was chosen).
    """

    folder: str
    run_dir: str
    reference_accuracy: float
    reference_val_accuracy: float
    variants: tuple[VariantReport, ...]
    chosen: str | None
    why: str
    unmet: tuple[str, ...]
    skipped: tuple[str, ...]
    reused: tuple[str, ...]
    ran: tuple[str, ...]
    config: dict
    provenance: dict
    report_md: str
    report_html: str
    seconds: float
    families: tuple[FamilyReport, ...] = ()

    @property
    def family(self) -> str | None:
        """The family of the chosen variant (the family that won), or None."""
        chosen = self.chosen_variant
        return chosen.family if chosen else None

    def family_of(self, variant: VariantReport) -> FamilyReport | None:
        """The family a variant was made from."""
        return next((f for f in self.families if f.name == variant.family), None)

    @property
    def met(self) -> bool:
        """True when some variant met every budget."""
        return self.chosen is not None

    @property
    def chosen_variant(self) -> VariantReport | None:
        """The chosen variant's report, or None."""
        return next((v for v in self.variants if v.name == self.chosen), None)

    def to_dict(self) -> dict:
        """The fields, then the winning family and whether some variant met the budgets."""
        return super().to_dict() | {"family": self.family, "met": self.met}
