"""Per-layer summary of a Keras model: output shapes, params, MACs and activation memory.

MACs are multiply-accumulates for one input (batch 1), counted the way the MLPerf Tiny
references are: convolutions and dense layers only. Peak activation memory walks the graph
in execution order and keeps every tensor until its last consumer has run, which is what a
TFLite-style arena has to hold. Importing this module does not import Keras.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgecnn.core.errors import BadInputError, ModelError
from edgecnn.core.shapes import format_shape
from edgecnn.training import modelio, tfdeps

# numpy has no bfloat16; every other Keras dtype name is a numpy name.
_ITEMSIZE = {"bfloat16": 2, "bool": 1}


@dataclass(frozen=True)
class LayerSummary:
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

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {**self.__dict__, "output_shape": _listify(self.output_shape)}


@dataclass(frozen=True)
class ModelSummary:
    """Totals and per-layer rows of one model."""

    name: str
    input_shape: tuple
    layers: tuple[LayerSummary, ...]
    total_params: int
    trainable_params: int
    total_macs: int
    peak_activation_bytes: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "name": self.name,
            "input_shape": _listify(self.input_shape),
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "total_macs": self.total_macs,
            "peak_activation_bytes": self.peak_activation_bytes,
            "layers": [layer.to_dict() for layer in self.layers],
        }


def summarize(model: Any) -> ModelSummary:
    """Summarizes a built functional or Sequential Keras model.

    A nested model counts as one row whose MACs are those of its own layers.

    Raises:
        ModelError: for a subclassed model (no graph to walk) or an unknown input size.
    """
    keras = tfdeps.keras()
    graph = modelio.functional_graph(model, purpose="summarize")
    nodes = _execution_order(graph)
    rows, seen = [], set()
    for node in nodes:
        op = node.operation
        first = id(op) not in seen
        seen.add(id(op))
        rows.append(_row(op, node, keras, first=first))
    inputs = [tuple(t.shape[1:]) for t in graph.inputs]
    return ModelSummary(
        name=model.name,
        input_shape=inputs[0] if len(inputs) == 1 else tuple(inputs),
        layers=tuple(rows),
        total_params=sum(r.params for r in rows),
        trainable_params=sum(math.prod(w.shape) for w in model.trainable_weights),
        total_macs=sum(r.macs for r in rows),
        peak_activation_bytes=_peak_bytes(nodes, graph.outputs),
    )


def summarize_source(
    source: str,
    *,
    input_shape: tuple[int, ...] | None = None,
    num_classes: int | None = None,
) -> ModelSummary:
    """Summarizes a zoo model (built at ``input_shape`` or its default) or a .keras file.

    Raises:
        BadInputError: for a .tflite file (not supported yet), a shape or class count given
            with a file, or a source that is neither a zoo name nor a .keras file.
        ModelError: for a file that cannot be loaded or a shape the zoo model cannot take.
    """
    from edgecnn.training.models import MODELS, build_model

    path = Path(source)
    spec = _zoo_spec(source) if not path.suffix else None
    if spec is not None:
        model = build_model(
            spec.name,
            input_shape=spec.default_input_shape if input_shape is None else input_shape,
            num_classes=spec.default_num_classes if num_classes is None else num_classes,
        )
        return summarize(model)
    if not path.suffix and not path.exists():
        raise BadInputError(
            f"{source!r} is neither a zoo model ({', '.join(MODELS)}) nor a .keras file"
        )
    if path.suffix.lower() == ".tflite":
        raise BadInputError(
            f"summary of .tflite files is not supported yet ({source}); "
            "give a zoo model name or a .keras file"
        )
    if input_shape is not None or num_classes is not None:
        raise BadInputError(
            f"input shape and class count apply to zoo models only; {source} has its own"
        )
    from edgecnn.training.modelio import load_keras_model

    return summarize(load_keras_model(path))


def _zoo_spec(source: str) -> Any:
    from edgecnn.training.models import get_spec

    try:
        return get_spec(source)
    except ModelError:
        return None


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
    frozen = summary.total_params - summary.trainable_params
    lines += [
        "",
        f"model {summary.name}, input {_shape_text(summary.input_shape)}",
        f"params: {summary.total_params:,} ({summary.trainable_params:,} trainable, "
        f"{frozen:,} non-trainable)",
        f"MACs: {_si(summary.total_macs)} ({summary.total_macs:,}) per input",
        f"peak activations: {_bytes_text(summary.peak_activation_bytes)} "
        f"({summary.peak_activation_bytes:,} bytes)",
    ]
    return "\n".join(lines)


def _execution_order(graph: Any) -> list[Any]:
    """The graph's call nodes (found from the outputs back) in execution order.

    A topological sort whose ties follow Keras's own layer order (``graph.operations``),
    the order in which Keras runs the graph and prints ``model.summary()``.
    """
    rank = {id(op): i for i, op in enumerate(graph.operations)}
    input_ids = {id(t) for t in graph.inputs}
    nodes, stack = {}, list(graph.outputs)
    while stack:
        tensor = stack.pop()
        node = _producer(tensor)
        if id(node) not in nodes:
            nodes[id(node)] = node
            if id(tensor) not in input_ids:
                stack.extend(node.input_tensors)
    waiting = {
        k: {id(_producer(t)) for t in n.input_tensors} & nodes.keys() for k, n in nodes.items()
    }
    order: list[Any] = []
    while waiting:
        ready = [k for k, deps_ in waiting.items() if not deps_]
        key = min(ready, key=lambda k: (rank.get(id(nodes[k].operation), 0), _index(nodes[k])))
        order.append(nodes[key])
        del waiting[key]
        for deps_ in waiting.values():
            deps_.discard(key)
    return order


def _producer(tensor: Any) -> Any:
    history = tensor._keras_history
    return history.operation._inbound_nodes[history.node_index]


def _index(node: Any) -> int:
    return node.operation._inbound_nodes.index(node)


def _row(op: Any, node: Any, keras: Any, *, first: bool) -> LayerSummary:
    outputs = node.output_tensors
    shapes = [tuple(t.shape[1:]) for t in outputs]
    is_layer = isinstance(op, keras.layers.Layer)
    activation_bytes = sum(_tensor_bytes(t) for t in outputs)  # first: refuses unknown sizes
    return LayerSummary(
        name=op.name if first else f"{op.name} (shared)",
        type=type(op).__name__,
        output_shape=shapes[0] if len(shapes) == 1 else tuple(shapes),
        params=int(op.count_params()) if first and is_layer and op.built else 0,
        macs=_macs(op, node, keras),
        activation_bytes=activation_bytes,
    )


def _macs(op: Any, node: Any, keras: Any) -> int:
    """Multiply-accumulates of one call, batch 1 (see the module docstring)."""
    layers = keras.layers
    if isinstance(op, keras.Model):
        return summarize(op).total_macs
    if isinstance(op, layers.Dense):
        shape = node.input_tensors[0].shape[1:]
        return math.prod(shape[:-1]) * shape[-1] * op.units
    conv_kinds = (
        layers.Conv1D, layers.Conv2D, layers.Conv3D,
        layers.DepthwiseConv1D, layers.DepthwiseConv2D,
        layers.SeparableConv1D, layers.SeparableConv2D,
        layers.Conv1DTranspose, layers.Conv2DTranspose, layers.Conv3DTranspose,
    )  # fmt: skip
    if not isinstance(op, conv_kinds):
        return 0
    in_pos, c_in = _positions(node.input_tensors[0], op)
    out_pos, c_out = _positions(node.output_tensors[0], op)
    kernel = math.prod(op.kernel_size)
    if isinstance(op, (layers.Conv1DTranspose, layers.Conv2DTranspose, layers.Conv3DTranspose)):
        return in_pos * kernel * c_in * c_out
    if isinstance(op, (layers.DepthwiseConv1D, layers.DepthwiseConv2D)):
        return out_pos * kernel * c_in * op.depth_multiplier
    if isinstance(op, (layers.SeparableConv1D, layers.SeparableConv2D)):
        mid = c_in * op.depth_multiplier
        return out_pos * kernel * mid + out_pos * mid * c_out
    return out_pos * kernel * (c_in // op.groups) * c_out


def _positions(tensor: Any, op: Any) -> tuple[int, int]:
    """(spatial positions, channels) of a conv layer's input or output, batch excluded."""
    shape = tuple(tensor.shape[1:])
    if getattr(op, "data_format", "channels_last") == "channels_first":
        return math.prod(shape[1:]), shape[0]
    return math.prod(shape[:-1]), shape[-1]


def _tensor_bytes(tensor: Any) -> int:
    shape = tuple(tensor.shape[1:])
    if any(d is None for d in shape):
        raise ModelError(
            f"cannot count memory of tensor {tensor.name} with unknown size "
            f"{format_shape(shape)}; build the model with a fixed input shape such as 32x32x3"
        )
    return math.prod(shape) * _itemsize(str(tensor.dtype))


def _itemsize(dtype: str) -> int:
    return _ITEMSIZE.get(dtype) or np.dtype(dtype).itemsize


def _peak_bytes(nodes: list[Any], outputs: list[Any]) -> int:
    """Largest sum of live tensors while a node runs (its inputs stay live, plus its output)."""
    uses: dict[int, int] = {}
    for node in nodes:
        for tensor_id in {id(t) for t in node.input_tensors}:
            uses[tensor_id] = uses.get(tensor_id, 0) + 1
    for tensor in outputs:  # model outputs live to the end
        uses[id(tensor)] = uses.get(id(tensor), 0) + 1
    live: dict[int, int] = {}
    peak = 0
    for node in nodes:
        new = {id(t): _tensor_bytes(t) for t in node.output_tensors}
        peak = max(peak, sum(live.values()) + sum(new.values()))
        live.update({k: v for k, v in new.items() if uses.get(k)})  # unused outputs: freed
        for tensor_id in {id(t) for t in node.input_tensors}:
            uses[tensor_id] -= 1
            if uses[tensor_id] == 0:
                del live[tensor_id]
    return peak


def _listify(value: Any) -> Any:
    return [_listify(v) for v in value] if isinstance(value, tuple | list) else value


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
