"""The model zoo as a table: each family built at its default input and counted."""

from __future__ import annotations

from dataclasses import dataclass

from edgecnn.core.records import Record
from edgecnn.core.shapes import format_shape


@dataclass(frozen=True)
class ZooEntry(Record):
    """One zoo family with its size at the default input."""

    name: str
    kind: str
    input_shape: tuple[int, ...]
    num_classes: int
    params: int
    macs: int
    description: str


def describe_zoo() -> list[ZooEntry]:
    """Builds every zoo model at its default input and counts params and MACs."""
    from edgecnn.training.models.registry import MODELS, build_model
    from edgecnn.training.summary import summarize

    entries = []
    for spec in MODELS.values():
        model = build_model(
            spec.name, input_shape=spec.default_input_shape, num_classes=spec.default_num_classes
        )
        counted = summarize(model)
        entries.append(
            ZooEntry(
                name=spec.name,
                kind=str(spec.kind),
                input_shape=spec.default_input_shape,
                num_classes=spec.default_num_classes,
                params=counted.total_params,
                macs=counted.total_macs,
                description=spec.description,
            )
        )
    return entries


def format_zoo(entries: list[ZooEntry]) -> str:
    """An aligned text table of the zoo."""
    header = f"{'model':<16}{'input':>10}{'classes':>9}{'params':>11}{'MACs':>12}  description"
    lines = [header, "-" * len(header)]
    for e in entries:
        lines.append(
            f"{e.name:<16}{format_shape(e.input_shape):>10}{e.num_classes:>9}"
            f"{e.params:>11,}{e.macs / 1e6:>10.2f} M  {e.description}"
        )
    return "\n".join(lines)
