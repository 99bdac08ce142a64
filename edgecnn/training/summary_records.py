"""The records of a model summary: one row per layer call, and the model's totals.

``summary`` fills them from a Keras model and ``summary_format`` prints them; both import
this module, which imports neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edgecnn.core.records import Record


@dataclass(frozen=True)
class LayerSummary(Record):
    """One call of one layer (a shared layer gets one row per call; params on the first).

    Attributes:
        name: layer name.
        type: layer class, e.g. ``Conv2D``.
        output_shape: output shape without the batch axis (a tuple of them for several).
        params: weights of the layer (0 on repeated calls of a shared layer).
        macs: multiply-accumulates for one input.
        activation_bytes: bytes of the output tensor(s).
    """

    name: str
    type: str
    output_shape: tuple
    params: int
    macs: int
    activation_bytes: int


@dataclass(frozen=True)
class ModelSummary(Record):
    """Totals and per-layer rows of one model."""

    name: str
    input_shape: tuple
    layers: tuple[LayerSummary, ...]
    total_params: int
    trainable_params: int
    total_macs: int
    peak_activation_bytes: int

    def to_dict(self) -> dict[str, Any]:
        """The fields, the per-layer rows last (after the totals)."""
        fields = super().to_dict()
        layers = fields.pop("layers")
        return fields | {"layers": layers}
