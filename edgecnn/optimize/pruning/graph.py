"""The data types of channel analysis and helpers for a Keras model's functional graph.

A *group* is a set of channels kept or removed together: the output channels of one layer
that creates channels (Conv, Dense, the pointwise half of SeparableConv), merged with
others where an Add-like layer joins them. A tensor's channel axis is a sequence of
segments, each one whole group. :mod:`edgecnn.optimize.pruning.channels` finds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from edgecnn.training import modelio, tfdeps

keras = tfdeps.keras()
L = keras.layers


@dataclass(frozen=True)
class Segment:
    """One group's channels inside a tensor, each channel repeated ``repeat`` times."""

    group: int
    size: int
    repeat: int = 1


@dataclass(frozen=True)
class ChannelGroup:
    """Channels that are kept or removed together.

    Attributes:
        id: the group's id (used as key in plans and masks).
        size: number of channels.
        members: layers whose output channels these are (several after an Add).
        fixed: True when no channel may be removed (model input/output, unsliceable use).
    """

    id: int
    size: int
    members: tuple[str, ...]
    fixed: bool


@dataclass(frozen=True)
class ChannelGraph:
    """The result of :func:`analyze`.

    Attributes:
        groups: every group by id.
        producers: layer name -> the group of its output channels.
        inputs: layer name -> segments of its input's channel axis, for layers whose
            weights are sliced on the input side (Conv, Dense, Depthwise, BN).
    """

    groups: dict[int, ChannelGroup]
    producers: dict[str, int]
    inputs: dict[str, tuple[Segment, ...]]

    def input_mask(self, layer: str, keep: dict[int, np.ndarray]) -> np.ndarray:
        """The boolean keep-mask over ``layer``'s input channels."""
        return expand(self.inputs[layer], keep)


def expand(segments: tuple[Segment, ...], keep: dict[int, np.ndarray]) -> np.ndarray:
    """Concatenates the groups' keep-masks the way the segments lay out a channel axis."""
    parts = [np.repeat(keep[s.group], s.repeat) for s in segments]
    return np.concatenate(parts) if parts else np.zeros(0, bool)


def functional_graph(model: Any) -> Any:
    """The functional graph of a model, or a ModelError naming why it has none."""
    return modelio.functional_graph(model, purpose="prune")


