"""What a pruning run is asked for and what it reports (plain Python: cheap to import)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edgecnn.core.errors import BadInputError
from edgecnn.core.records import Record
from edgecnn.optimize.pruning.options import (
    Criterion,
    Method,
    Scope,
    check_fraction,
    check_int,
    check_positive,
    check_ratio,
    parse_choice,
)

DEFAULT_OUT = "pruned.keras"
NOTES = {
    Method.STRUCTURED: (
        "structured pruning removed whole channels: params, MACs, file size and latency drop "
        "on every runtime (TFLite/LiteRT, TFLite Micro) with no special kernels"
    ),
    Method.MAGNITUDE: (
        "unstructured sparsity keeps the model's shape: params and MACs are unchanged and "
        "TFLite/LiteRT and TFLite Micro run it no faster and need the same arena; the zeros "
        "only pay off after compression (see the gzip sizes: storage, OTA download)"
    ),
}


@dataclass(frozen=True)
class PruneOptions(Record):
    """Checked options of one pruning run (see :func:`prune` for their meaning)."""

    method: Method
    ratio: float
    finetune_epochs: int
    scope: Scope
    criterion: Criterion
    max_group_ratio: float
    min_weights: int
    skip_first: bool
    lr_factor: float
    out: str


@dataclass(frozen=True)
class PruneResult(Record):
    """What a pruning run produced and what it cost.

    Sizes are of ``.keras`` files without optimizer state (the original is re-saved that
    way so both sides compare like for like); gzip sizes are of the same files gzipped.
    Accuracies are top-1 on the run's test split. ``sparsity`` is the share of zeros among
    conv/dense kernels (magnitude only).
    """

    method: str
    ratio: float
    run_dir: str
    source_path: str
    model_path: str
    report_path: str
    params_before: int
    params_after: int
    macs_before: int
    macs_after: int
    size_bytes_before: int
    size_bytes_after: int
    gzip_bytes_before: int
    gzip_bytes_after: int
    accuracy_before: float
    accuracy_after: float
    finetune_epochs: int
    sparsity: float | None
    layers: tuple[dict, ...]
    options: dict
    note: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, with the after/before ratios added."""
        ratios = {
            f"{key}_ratio": round(getattr(self, f"{key}_after") / before, 4) if before else None
            for key in ("params", "macs", "size_bytes", "gzip_bytes")
            for before in [getattr(self, f"{key}_before")]
        }
        return super().to_dict() | ratios


def check_options(
    *, method, ratio, finetune_epochs, scope, criterion, max_group_ratio, min_weights,
    skip_first, lr_factor, out,
) -> PruneOptions:  # fmt: skip
    """Checks and normalizes the options of :func:`edgecnn.optimize.prune.prune`.

    Raises:
        BadInputError: naming the first option out of range and the value received.
    """
    if not isinstance(skip_first, bool):
        raise BadInputError(f"skip_first must be True or False; got {skip_first!r}")
    return PruneOptions(
        method=parse_choice(Method, method, "method"),
        ratio=check_ratio(ratio),
        finetune_epochs=check_int(finetune_epochs, option="finetune_epochs", minimum=0),
        scope=parse_choice(Scope, scope, "scope"),
        criterion=parse_choice(Criterion, criterion, "criterion"),
        max_group_ratio=check_fraction(
            max_group_ratio, option="max_group_ratio", allow_zero=False, allow_one=True
        ),  # fmt: skip
        min_weights=check_int(min_weights, option="min_weights", minimum=0),
        skip_first=skip_first,
        lr_factor=check_positive(lr_factor, option="lr_factor"),
        out=DEFAULT_OUT if out is None else str(out),
    )
