"""Channel dependencies of a Keras model: which channels have to be pruned together.

Every layer that creates channels (Conv, Dense, the pointwise half of SeparableConv) starts
a *group*: its output channels. A tensor's channel axis is described as a sequence of
segments, each one whole group (a Concatenate chains its inputs' segments; a Flatten of
HxWxC repeats the segments once per position; a DepthwiseConv repeats each channel
``depth_multiplier`` times). Tensors joined elementwise (Add, Multiply, ...) must keep the
same channels, so their groups are merged into one (union-find). Groups that touch the
model's input or output, or a layer that mixes channels in a way we cannot slice, are
*fixed*: all their channels stay.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from edgecnn.core.errors import ModelError
from edgecnn.optimize.pruning.graph import ChannelGraph, ChannelGroup, Segment, functional_graph
from edgecnn.training import tfdeps

keras = tfdeps.keras()
L = keras.layers

_PRODUCERS = (L.Conv1D, L.Conv2D, L.Conv3D, L.Dense, L.SeparableConv1D, L.SeparableConv2D)
_DEPTHWISE = (L.DepthwiseConv1D, L.DepthwiseConv2D)
_PASS = (
    L.ReLU, L.LeakyReLU, L.ELU, L.Dropout, L.SpatialDropout1D, L.SpatialDropout2D,
    L.SpatialDropout3D, L.GaussianNoise, L.GaussianDropout, L.AlphaDropout,
    L.ActivityRegularization, L.Identity,
    L.MaxPooling1D, L.MaxPooling2D, L.MaxPooling3D,
    L.AveragePooling1D, L.AveragePooling2D, L.AveragePooling3D,
    L.GlobalMaxPooling1D, L.GlobalMaxPooling2D, L.GlobalMaxPooling3D,
    L.GlobalAveragePooling1D, L.GlobalAveragePooling2D, L.GlobalAveragePooling3D,
    L.ZeroPadding1D, L.ZeroPadding2D, L.ZeroPadding3D,
    L.Cropping1D, L.Cropping2D, L.Cropping3D,
    L.UpSampling1D, L.UpSampling2D, L.UpSampling3D,
)  # fmt: skip
_MERGE = (L.Add, L.Subtract, L.Multiply, L.Average, L.Maximum, L.Minimum)
# Layers that see all channels at once: their input channels must all stay.
_BARRIER = (L.Reshape, L.Permute, L.Rescaling, L.Normalization, L.LayerNormalization, L.Softmax)
# Activations that normalize across channels: removing one changes the others.
_CHANNEL_MIXING = ("softmax", "log_softmax")


def analyze(model: Any) -> ChannelGraph:
    """Finds the channel groups of a functional or Sequential model.

    Raises:
        ModelError: naming the first layer structured pruning does not know how to handle.
    """
    graph = functional_graph(model)
    walker = _Walker()
    by_depth = graph._nodes_by_depth  # deeper nodes run first; one depth never depends on itself
    for depth in sorted(by_depth, reverse=True):
        for node in by_depth[depth]:
            walker.visit(node)
    for tensor in graph.outputs:  # never change what the model returns
        walker.fix(walker.channels[id(tensor)])
    return walker.result()


class _UnionFind:
    """Groups with merge (union) and a fixed flag that spreads through merges."""

    def __init__(self) -> None:
        self.parent: list[int] = []
        self.fixed: list[bool] = []
        self.sizes: list[int] = []

    def add(self, size: int, *, fixed: bool) -> int:
        self.parent.append(len(self.parent))
        self.fixed.append(fixed)
        self.sizes.append(size)
        return len(self.parent) - 1

    def find(self, group: int) -> int:
        while self.parent[group] != group:
            self.parent[group] = self.parent[self.parent[group]]
            group = self.parent[group]
        return group

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra
            self.fixed[ra] = self.fixed[ra] or self.fixed[rb]

    def fix(self, group: int) -> None:
        self.fixed[self.find(group)] = True


class _Walker:
    """Visits call nodes in execution order, giving every tensor its channel segments."""

    def __init__(self) -> None:
        self.uf = _UnionFind()
        self.channels: dict[int, tuple[Segment, ...]] = {}
        self.producers: dict[str, int] = {}
        self.inputs: dict[str, tuple[Segment, ...]] = {}

    def visit(self, node: Any) -> None:
        op = node.operation
        handler = self._handler(op)
        ins = [self.channels[id(t)] for t in node.input_tensors]
        out = handler(op, node, ins)
        for tensor in node.output_tensors:
            if sum(s.size * s.repeat for s in out) != tensor.shape[-1]:
                raise ModelError(  # a guard against layers that move the channel axis
                    f"cannot follow the channels through layer {op.name!r} "
                    f"({type(op).__name__}); structured pruning does not support this model"
                )
            self.channels[id(tensor)] = out

    def _handler(self, op: Any) -> Callable[..., tuple[Segment, ...]]:
        kind = type(op)  # exact types: a subclass may do anything with its channels
        if kind is L.InputLayer:
            return self._input
        if kind in _PRODUCERS:
            return self._producer
        if kind in _DEPTHWISE:
            return self._depthwise
        if kind is L.BatchNormalization:
            return self._batch_norm
        if kind is L.Activation:
            return self._activation
        if kind in _PASS:
            return self._pass
        if kind is L.Flatten:
            return self._flatten
        if kind in _MERGE:
            return self._merge
        if kind is L.Concatenate:
            return self._concat
        if kind in _BARRIER:
            return self._barrier
        raise ModelError(
            f"structured pruning cannot handle layer {op.name!r} ({kind.__name__}); it knows "
            "Conv1D/2D/3D, Dense, Depthwise/SeparableConv, BatchNormalization, activations, "
            "pooling, Flatten, Add-like merges and Concatenate — try --method magnitude"
        )

    def _input(self, op, node, ins):
        return self._fixed_output(node)

    def _producer(self, op, node, ins):
        _check_channels_last(op)
        self._record_input(op, ins[0])
        mixing = getattr(op, "groups", 1) != 1
        if mixing:  # grouped convs tie input and output channels in blocks: keep them all
            self.fix(ins[0])
        if op.name not in self.producers:
            size = node.output_tensors[0].shape[-1]
            activation = op.get_config().get("activation")
            fixed = mixing or activation in _CHANNEL_MIXING
            self.producers[op.name] = self.uf.add(size, fixed=fixed)
        group = self.producers[op.name]
        return (Segment(group, self.uf.sizes[group]),)

    def _depthwise(self, op, node, ins):
        _check_channels_last(op)
        self._record_input(op, ins[0])
        return tuple(Segment(s.group, s.size, s.repeat * op.depth_multiplier) for s in ins[0])

    def _batch_norm(self, op, node, ins):
        rank = len(node.input_tensors[0].shape)
        if op.axis not in (-1, rank - 1):
            raise ModelError(
                f"structured pruning needs BatchNormalization on the last axis; layer "
                f"{op.name!r} normalizes axis {op.axis}"
            )
        self._record_input(op, ins[0])
        return ins[0]

    def _activation(self, op, node, ins):
        if op.get_config().get("activation") in _CHANNEL_MIXING:
            return self._barrier(op, node, ins)
        return ins[0]

    def _pass(self, op, node, ins):
        _check_channels_last(op)
        return ins[0]

    def _flatten(self, op, node, ins):
        shape = node.input_tensors[0].shape[1:-1]
        if any(d is None for d in shape):
            raise ModelError(f"cannot prune through Flatten {op.name!r} of unknown size {shape}")
        return ins[0] * math.prod(shape)  # channels-last: channels vary fastest

    def _merge(self, op, node, ins):
        self._join(ins)
        return ins[0]

    def _concat(self, op, node, ins):
        rank = len(node.input_tensors[0].shape)
        if op.axis % rank == rank - 1:
            return tuple(s for segments in ins for s in segments)
        return self._merge(op, node, ins)  # joined along another axis: channels must match

    def _barrier(self, op, node, ins):
        for segments in ins:
            self.fix(segments)
        return self._fixed_output(node)

    def _fixed_output(self, node: Any) -> tuple[Segment, ...]:
        size = node.output_tensors[0].shape[-1]
        return (Segment(self.uf.add(size, fixed=True), size),)

    def _record_input(self, op: Any, segments: tuple[Segment, ...]) -> None:
        """Remembers a layer's input channels; a shared layer's calls must agree."""
        if op.name in self.inputs:
            self._join([self.inputs[op.name], segments])
        else:
            self.inputs[op.name] = segments

    def _join(self, inputs: list[tuple[Segment, ...]]) -> None:
        """Merges tensors that must keep the same channels, or fixes them all."""
        first = inputs[0]
        layout = [(s.size, s.repeat) for s in first]
        if all([(s.size, s.repeat) for s in other] == layout for other in inputs[1:]):
            for other in inputs[1:]:
                for a, b in zip(first, other, strict=True):
                    self.uf.union(a.group, b.group)
        else:  # e.g. Add(conv, Concatenate([a, b])): channel i maps to different groups
            for segments in inputs:
                self.fix(segments)

    def fix(self, segments: tuple[Segment, ...]) -> None:
        for s in segments:
            self.uf.fix(s.group)

    def result(self) -> ChannelGraph:
        find = self.uf.find
        members: dict[int, list[str]] = {}
        for name, group in self.producers.items():
            members.setdefault(find(group), []).append(name)
        roots = {find(g) for g in range(len(self.uf.parent))}
        groups = {
            r: ChannelGroup(r, self.uf.sizes[r], tuple(members.get(r, ())), self.uf.fixed[r])
            for r in sorted(roots)
        }
        return ChannelGraph(
            groups=groups,
            producers={name: find(g) for name, g in self.producers.items()},
            inputs={
                name: tuple(Segment(find(s.group), s.size, s.repeat) for s in segments)
                for name, segments in self.inputs.items()
            },
        )


def _check_channels_last(op: Any) -> None:
    if getattr(op, "data_format", "channels_last") != "channels_last":
        raise ModelError(
            f"structured pruning supports channels_last models only; layer {op.name!r} uses "
            f"{op.data_format}"
        )
