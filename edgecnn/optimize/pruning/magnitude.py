"""Unstructured magnitude pruning, native on Keras 3 (TF-MOT only accepts tf_keras models).

The design follows TF-MOT's schedule / wrap / strip, without wrapper layers: a schedule says
when and how sparse; :class:`MagnitudePruning`, a callback, recomputes per-layer masks on
the schedule's steps and re-applies them after every training batch, so pruned weights
stay zero while the rest fine-tune. The masks live in the callback, never in the model, so
stripping is only :func:`strip_pruning`: a plain copy without optimizer state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from edgecnn.core.errors import BadInputError
from edgecnn.optimize.pruning.graph import functional_graph
from edgecnn.optimize.pruning.options import check_fraction, check_int
from edgecnn.training import tfdeps
from edgecnn.training.modelio import plain_copy

keras = tfdeps.keras()
L = keras.layers

# The weights magnitude pruning touches, per layer type; biases and BN stay dense (they are
# few, and zeroing a bias or a BN scale changes a whole channel, not one connection).
_KERNELS = {
    L.Dense: ("kernel",),
    L.Conv1D: ("kernel",), L.Conv2D: ("kernel",), L.Conv3D: ("kernel",),
    L.Conv1DTranspose: ("kernel",), L.Conv2DTranspose: ("kernel",),
    L.Conv3DTranspose: ("kernel",),
    L.DepthwiseConv1D: ("kernel",), L.DepthwiseConv2D: ("kernel",),
    L.SeparableConv1D: ("depthwise_kernel", "pointwise_kernel"),
    L.SeparableConv2D: ("depthwise_kernel", "pointwise_kernel"),
}  # fmt: skip


@dataclass(frozen=True)
class ConstantSparsity:
    """Prune to ``target_sparsity`` every ``frequency`` steps from ``begin_step`` on.

    Attributes:
        target_sparsity: fraction of zeros per layer, in [0, 1).
        begin_step: first step that prunes, >= 0.
        end_step: last step that prunes; -1 means until training ends.
        frequency: steps between mask updates, >= 1.
    """

    target_sparsity: float
    begin_step: int = 0
    end_step: int = -1
    frequency: int = 100

    def __post_init__(self) -> None:
        _check_sparsity(self.target_sparsity, "target_sparsity")
        _check_steps(self.begin_step, self.end_step, self.frequency, open_end=True)

    def __call__(self, step: int) -> tuple[bool, float]:
        """(whether masks are updated at ``step``, the sparsity to reach)."""
        return _is_pruning_step(self, step), self.target_sparsity


@dataclass(frozen=True)
class PolynomialDecay:
    """Sparsity rising from ``initial_sparsity`` to ``final_sparsity`` as in TF-MOT.

    ``s(t) = final + (initial - final) * (1 - p) ** power`` with
    ``p = (t - begin_step) / (end_step - begin_step)`` clipped to [0, 1]: quick at first,
    gentle near the end, so the network can recover from the last cuts.

    Attributes:
        initial_sparsity: sparsity at ``begin_step``, in [0, 1).
        final_sparsity: sparsity from ``end_step`` on, in [0, 1).
        begin_step: first step that prunes, >= 0.
        end_step: step that reaches ``final_sparsity``, > ``begin_step``.
        power: exponent of the decay.
        frequency: steps between mask updates, >= 1.
    """

    initial_sparsity: float
    final_sparsity: float
    begin_step: int
    end_step: int
    power: float = 3.0
    frequency: int = 100

    def __post_init__(self) -> None:
        _check_sparsity(self.initial_sparsity, "initial_sparsity")
        _check_sparsity(self.final_sparsity, "final_sparsity")
        _check_steps(self.begin_step, self.end_step, self.frequency, open_end=False)
        if isinstance(self.power, bool) or not isinstance(self.power, int | float):
            raise BadInputError(f"power must be a number; got {self.power!r}")

    def __call__(self, step: int) -> tuple[bool, float]:
        """(whether masks are updated at ``step``, the sparsity to reach)."""
        span = self.end_step - self.begin_step
        progress = min(1.0, max(0.0, (step - self.begin_step) / span))
        gap = self.initial_sparsity - self.final_sparsity
        sparsity = self.final_sparsity + gap * (1 - progress) ** self.power
        return _is_pruning_step(self, step), sparsity


def _check_sparsity(value: Any, option: str) -> None:
    check_fraction(value, option=option, allow_zero=True, allow_one=False)


def _check_steps(begin: Any, end: Any, frequency: Any, *, open_end: bool) -> None:
    check_int(begin, option="begin_step", minimum=0)
    check_int(frequency, option="frequency", minimum=1)
    check_int(end, option="end_step", minimum=-1 if open_end else 0)
    if not (open_end and end == -1) and end <= begin:
        raise BadInputError(
            f"end_step must be greater than begin_step ({begin})"
            f"{' or -1 for no end' if open_end else ''}; got {end}"
        )


def _is_pruning_step(schedule: Any, step: int) -> bool:
    # Like TF-MOT: masks also update on the end step, then stay as they are.
    in_range = schedule.begin_step <= step and (schedule.end_step in (-1, None) or
                                                 step <= schedule.end_step)  # fmt: skip
    return in_range and (step - schedule.begin_step) % schedule.frequency == 0


@dataclass(frozen=True)
class Target:
    """One prunable kernel: the layer, the weight's name and the variable itself."""

    layer: str
    weight: str
    variable: Any


def find_targets(
    model: Any, *, min_weights: int = 64, skip_first: bool = False
) -> tuple[list[Target], list[dict[str, Any]]]:
    """The kernels to prune and a report line for each kernel left alone.

    Biases and BatchNormalization are never pruned.

    Args:
        model: a built Keras model.
        min_weights: kernels with fewer weights are skipped: they cost little and each of
            their weights matters more.
        skip_first: also skip the first layer with a kernel (it sees the raw input).
    """
    min_weights = check_int(min_weights, option="min_weights", minimum=0)
    targets, skipped, first = [], [], True
    for layer in functional_graph(model).layers:
        for weight in _KERNELS.get(type(layer), ()):
            variable = getattr(layer, weight)
            size = int(np.prod(variable.shape))
            reason = "first layer" if skip_first and first else None
            reason = reason or (f"fewer than {min_weights} weights" if size < min_weights else None)
            if reason:
                skipped.append({**_count(layer.name, weight, variable), "skipped": reason})
            else:
                targets.append(Target(layer.name, weight, variable))
        first = first and not _KERNELS.get(type(layer))
    return targets, skipped


def magnitude_mask(values: np.ndarray, sparsity: float) -> np.ndarray:
    """Keep-mask removing exactly ``round(sparsity * size)`` weights of smallest magnitude."""
    flat = np.abs(np.asarray(values)).ravel()
    drop = int(round(sparsity * flat.size))
    keep = np.ones(flat.size, bool)
    if drop:
        keep[np.argpartition(flat, drop - 1)[:drop]] = False
    return keep.reshape(np.shape(values))


class MagnitudePruning(keras.callbacks.Callback):
    """Keeps the targets' smallest weights at zero during ``fit`` following a schedule.

    Masks are recomputed at the start of each step the schedule names (a pruning step also
    applies them at once, so the batch trains on the pruned weights) and re-applied after
    every batch, because the optimizer moves zeroed weights again.
    """

    def __init__(self, targets: list[Target], schedule: Any) -> None:
        super().__init__()
        self.targets, self.schedule = targets, schedule
        self.step = 0
        self.sparsity = 0.0
        self.masks: dict[int, np.ndarray] = {}

    def on_train_batch_begin(self, batch, logs=None):
        update, sparsity = self.schedule(self.step)
        if update:
            self.update_masks(sparsity)

    def on_train_batch_end(self, batch, logs=None):
        self.apply_masks()
        self.step += 1

    def update_masks(self, sparsity: float) -> None:
        """Recomputes every target's mask at ``sparsity`` and applies it."""
        self.sparsity = sparsity
        for i, target in enumerate(self.targets):
            self.masks[i] = magnitude_mask(np.asarray(target.variable), sparsity)
        self.apply_masks()

    def apply_masks(self) -> None:
        """Zeroes the masked weights."""
        for i, mask in self.masks.items():
            variable = self.targets[i].variable
            variable.assign(np.where(mask, np.asarray(variable), 0).astype(variable.dtype))


def prune_once(targets: list[Target], sparsity: float) -> None:
    """One-shot pruning (no fine-tuning): zeroes each target's smallest weights."""
    MagnitudePruning(targets, ConstantSparsity(sparsity)).update_masks(sparsity)


def strip_pruning(model: Any) -> Any:
    """The deployable model: a plain copy, no masks, no optimizer state, just the zeros."""
    return plain_copy(model)


def sparsity_report(model: Any, targets: list[Target], skipped: list[dict]) -> list[dict]:
    """Per kernel, in layer order: weights, zeros and sparsity (skipped ones say why).

    ``model`` may be a copy of the one the targets were found in (layers match by name).
    """
    graph = functional_graph(model)
    rows = [
        {**_count(t.layer, t.weight, getattr(graph.get_layer(t.layer), t.weight)), "skipped": None}
        for t in targets
    ]
    order = {layer.name: i for i, layer in enumerate(graph.layers)}
    return sorted(rows + skipped, key=lambda row: order[row["name"]])


def overall_sparsity(rows: list[dict]) -> float:
    """Zeros among all the kernels of a report (pruned and skipped)."""
    weights = sum(row["weights"] for row in rows)
    return round(sum(row["zeros"] for row in rows) / weights, 4) if weights else 0.0


def _count(layer: str, weight: str, variable: Any) -> dict[str, Any]:
    values = np.asarray(variable)
    zeros = int(values.size - np.count_nonzero(values))
    return {
        "name": layer,
        "weight": weight,
        "weights": int(values.size),
        "zeros": zeros,
        "sparsity": round(zeros / values.size, 4) if values.size else 0.0,
    }
