"""Structured pruning: remove whole filters/channels and rebuild a thinner dense model.

:func:`plan_structured` scores the channels of every prunable group (see
:mod:`edgecnn.optimize.pruning.graph`) and decides which stay; :func:`apply_plan` rebuilds the
model from its config with fewer ``filters``/``units`` and copies the surviving weights.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgecnn.optimize.pruning.channels import analyze
from edgecnn.optimize.pruning.graph import ChannelGraph, expand, functional_graph
from edgecnn.optimize.pruning.options import (
    Criterion,
    Scope,
    check_fraction,
    check_ratio,
    parse_choice,
)
from edgecnn.training import tfdeps

keras = tfdeps.keras()
L = keras.layers

_DEPTHWISE = (L.DepthwiseConv1D, L.DepthwiseConv2D)
_SEPARABLE = (L.SeparableConv1D, L.SeparableConv2D)


@dataclass(frozen=True)
class StructuredPlan:
    """Which channels of which group stay.

    Attributes:
        graph: the model's channel groups.
        keep: group id -> boolean mask of the channels that stay.
        ratio: the requested fraction of channels to remove.
        scope: per-layer or global.
        criterion: how channels were scored.
    """

    graph: ChannelGraph
    keep: dict[int, np.ndarray]
    ratio: float
    scope: Scope
    criterion: Criterion

    def output_mask(self, layer: str) -> np.ndarray:
        """Keep-mask over a producing layer's output channels."""
        return self.keep[self.graph.producers[layer]]

    def input_mask(self, layer: str) -> np.ndarray:
        """Keep-mask over a layer's input channels (Conv, Dense, Depthwise, BN)."""
        return expand(self.graph.inputs[layer], self.keep)

    def layers(self) -> list[dict[str, Any]]:
        """Per producing layer: channels before and after, its group, and whether fixed."""
        rows = []
        for name, group_id in self.graph.producers.items():
            group = self.graph.groups[group_id]
            rows.append({
                "name": name,
                "group": group_id,
                "channels_before": group.size,
                "channels_after": int(self.keep[group_id].sum()),
                "fixed": group.fixed,
                "shared_with": [m for m in group.members if m != name],
            })  # fmt: skip
        return rows


def plan_structured(
    model: Any,
    *,
    ratio: float,
    scope: Scope | str = Scope.LAYER,
    criterion: Criterion | str = Criterion.L1,
    max_group_ratio: float = 0.9,
) -> StructuredPlan:
    """Decides which channels to remove.

    Args:
        model: a built functional or Sequential Keras model.
        ratio: fraction of channels to remove, in (0, 1): of every group (layer scope) or of
            all prunable channels together (global scope).
        scope: ``layer`` or ``global``.
        criterion: ``l1`` (filter L1 norm) or ``bn`` (|gamma| of the following BN).
        max_group_ratio: global scope never removes more than this fraction of a group.

    Raises:
        BadInputError: for an option out of range.
        ModelError: for a layer structured pruning cannot handle.
    """
    ratio = check_ratio(ratio)
    scope = parse_choice(Scope, scope, "scope")
    criterion = parse_choice(Criterion, criterion, "criterion")
    cap = check_fraction(max_group_ratio, option="max_group_ratio", allow_zero=False,
                         allow_one=True)  # fmt: skip
    graph = analyze(model)
    scores = channel_scores(model, graph, criterion)
    if scope == Scope.LAYER:
        removed = {g: _layer_count(len(s), ratio) for g, s in scores.items()}
    else:
        removed = _global_counts(scores, ratio, cap)
    keep = {g: np.ones(group.size, bool) for g, group in graph.groups.items()}
    for g, count in removed.items():
        keep[g][np.argsort(scores[g], kind="stable")[:count]] = False
    return StructuredPlan(graph, keep, ratio, scope, criterion)


def channel_scores(model: Any, graph: ChannelGraph, criterion: Criterion) -> dict[int, np.ndarray]:
    """Importance of each channel of every prunable group (fixed and 1-channel groups skipped).

    Groups joined by an Add score each channel by the sum over their members.
    """
    layers = functional_graph(model)
    scores = {g.id: np.zeros(g.size) for g in graph.groups.values() if _prunable(g)}
    for name, group_id in graph.producers.items():
        if group_id in scores:
            scores[group_id] += _filter_l1(layers.get_layer(name))
    if criterion == Criterion.BN:
        gammas = _bn_gammas(layers, graph, scores.keys())
        scores.update(gammas)  # groups no BN sees keep their L1 score
    return scores


def _prunable(group: Any) -> bool:
    return not group.fixed and group.size > 1


def _filter_l1(layer: Any) -> np.ndarray:
    kernel = layer.pointwise_kernel if isinstance(layer, _SEPARABLE) else layer.kernel
    values = np.abs(np.asarray(kernel))
    return values.reshape(-1, values.shape[-1]).sum(axis=0)


def _bn_gammas(layers: Any, graph: ChannelGraph, wanted: Any) -> dict[int, np.ndarray]:
    """Sum of |gamma| over every BN that normalizes a group's channels."""
    sums: dict[int, np.ndarray] = {}
    for name, segments in graph.inputs.items():
        layer = layers.get_layer(name)
        if type(layer) is not L.BatchNormalization or layer.gamma is None:
            continue
        gamma, start = np.abs(np.asarray(layer.gamma)), 0
        for s in segments:
            part = gamma[start : start + s.size * s.repeat].reshape(s.size, s.repeat).sum(axis=1)
            start += s.size * s.repeat
            if s.group in wanted:
                sums[s.group] = sums.get(s.group, 0) + part
    return sums


def _layer_count(size: int, ratio: float) -> int:
    """Channels one group loses at ``ratio``, rounded half up, keeping at least one."""
    return min(size - 1, math.floor(size * ratio + 0.5))


def _global_counts(scores: dict[int, np.ndarray], ratio: float, cap: float) -> dict[int, int]:
    """Removes the globally lowest normalized scores until ``ratio`` of channels are gone.

    Scores are divided by their group's mean so wide and narrow layers compare fairly.
    """
    caps = {g: min(len(s) - 1, math.floor(len(s) * cap)) for g, s in scores.items()}
    target = math.floor(sum(len(s) for s in scores.values()) * ratio + 0.5)
    ranked = sorted(
        (value / (s.mean() or 1.0), g)
        for g, s in scores.items()
        for value in s
    )  # fmt: skip
    counts, total = dict.fromkeys(scores, 0), 0
    for _, g in ranked:
        if total >= target:
            break
        if counts[g] < caps[g]:
            counts[g] += 1
            total += 1
    return counts


def apply_plan(model: Any, plan: StructuredPlan) -> Any:
    """Builds the thinner model and copies the weights of the channels that stay.

    The result is an uncompiled functional model with the same layer names (a Sequential
    comes back as the functional model it wraps).
    """
    graph = functional_graph(model)
    config = copy.deepcopy(graph.get_config())
    for entry in config["layers"]:
        entry.pop("build_config", None)  # holds the old input shapes; calling rebuilds
        name = entry["config"]["name"]
        if name in plan.graph.producers:
            key = "units" if entry["class_name"] == "Dense" else "filters"
            entry["config"][key] = int(plan.output_mask(name).sum())
    thin = keras.Model.from_config(config)
    for layer in graph.layers:
        if layer.weights:
            _copy_weights(layer, thin.get_layer(layer.name), plan)
    return thin


def _copy_weights(old: Any, new: Any, plan: StructuredPlan) -> None:
    name = old.name
    in_mask = plan.input_mask(name) if name in plan.graph.inputs else None
    out_mask = plan.output_mask(name) if name in plan.graph.producers else None
    for old_var, new_var in zip(old.weights, new.weights, strict=True):
        value = np.asarray(old_var)
        if in_mask is not None:
            value = _sliced(old, old_var.name, value, in_mask, out_mask)
        new_var.assign(value)


def _sliced(layer: Any, weight: str, value: np.ndarray, in_mask, out_mask) -> np.ndarray:
    """One weight of a layer restricted to the kept input and output channels."""
    if type(layer) is L.BatchNormalization:
        return value[in_mask]
    multiplier = getattr(layer, "depth_multiplier", 1)
    if isinstance(layer, _DEPTHWISE):  # kernel (..., in, multiplier); bias in * multiplier
        if weight == "bias":
            return value[np.repeat(in_mask, multiplier)]
        return np.compress(in_mask, value, axis=-2)
    if weight == "depthwise_kernel":  # SeparableConv's first half
        return np.compress(in_mask, value, axis=-2)
    if weight == "bias":
        return value[out_mask]
    rows = np.repeat(in_mask, multiplier) if weight == "pointwise_kernel" else in_mask
    return np.compress(out_mask, np.compress(rows, value, axis=-2), axis=-1)


def prune_structured(model: Any, **options: Any) -> tuple[Any, StructuredPlan]:
    """Plans and applies structured pruning; options as for :func:`plan_structured`."""
    plan = plan_structured(model, **options)
    return apply_plan(model, plan), plan
