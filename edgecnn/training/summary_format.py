"""The text table of ``edgecnn summary``: aligned per-layer rows, then totals lines."""

from __future__ import annotations

from edgecnn.core.shapes import format_shape
from edgecnn.training.summary_records import ModelSummary


def format_table(summary: ModelSummary) -> str:
    """An aligned text table of the layers followed by totals lines."""
    header = ("layer", "type", "output", "params", "MACs", "activations")
    body = [
        (r.name, r.type, _shape_text(r.output_shape), f"{r.params:,}", f"{r.macs:,}",
         _bytes_text(r.activation_bytes))
        for r in summary.layers
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = [_align(header, widths), "-" * (sum(widths) + 2 * (len(widths) - 1))]
    lines += [_align(row, widths) for row in body]
    return "\n".join([*lines, "", *_totals(summary)])


def _totals(summary: ModelSummary) -> list[str]:
    frozen = summary.total_params - summary.trainable_params
    return [
        f"model {summary.name}, input {_shape_text(summary.input_shape)}",
        f"params: {summary.total_params:,} ({summary.trainable_params:,} trainable, "
        f"{frozen:,} non-trainable)",
        f"MACs: {_si(summary.total_macs)} ({summary.total_macs:,}) per input",
        f"peak activations: {_bytes_text(summary.peak_activation_bytes)} "
        f"({summary.peak_activation_bytes:,} bytes)",
    ]


def _shape_text(shape: tuple) -> str:
    if shape and isinstance(shape[0], tuple):
        return ", ".join(format_shape(s) for s in shape)
    return format_shape(shape)


def _si(n: int) -> str:
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return str(n)


def _bytes_text(n: int) -> str:
    for scale, unit in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def _align(cells: tuple[str, ...], widths: list[int]) -> str:
    # Names and types read left-aligned; numbers and shapes right-aligned.
    parts = [
        c.ljust(w) if i < 2 else c.rjust(w)
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    ]
    return "  ".join(parts).rstrip()
