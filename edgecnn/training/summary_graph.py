"""Walking a built Keras functional graph: execution order, tensor sizes, peak live memory.

Peak activation memory keeps every tensor until its last consumer has run, which is what a
TFLite-style arena has to hold. Importing this module does not import Keras.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from edgecnn.core.errors import ModelError
from edgecnn.core.shapes import format_shape

# numpy has no bfloat16; every other Keras dtype name is a numpy name.
_ITEMSIZE = {"bfloat16": 2, "bool": 1}


def execution_order(graph: Any) -> list[Any]:
    """The graph's call nodes (found from the outputs back) in execution order.

    A topological sort whose ties follow Keras's own layer order (``graph.operations``),
    the order in which Keras runs the graph and prints ``model.summary()``.
    """
    rank = {id(op): i for i, op in enumerate(graph.operations)}
    nodes = _reachable_nodes(graph)
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


def _reachable_nodes(graph: Any) -> dict[int, Any]:
    """id -> call node for every node the outputs depend on, down to the graph's inputs."""
    input_ids = {id(t) for t in graph.inputs}
    nodes, stack = {}, list(graph.outputs)
    while stack:
        tensor = stack.pop()
        node = _producer(tensor)
        if id(node) not in nodes:
            nodes[id(node)] = node
            if id(tensor) not in input_ids:
                stack.extend(node.input_tensors)
    return nodes


def _producer(tensor: Any) -> Any:
    history = tensor._keras_history
    return history.operation._inbound_nodes[history.node_index]


def _index(node: Any) -> int:
    return node.operation._inbound_nodes.index(node)


def tensor_bytes(tensor: Any) -> int:
    """Bytes of one tensor without its batch axis.

    Raises:
        ModelError: the tensor has an axis of unknown size.
    """
    shape = tuple(tensor.shape[1:])
    if any(d is None for d in shape):
        raise ModelError(
            f"cannot count memory of tensor {tensor.name} with unknown size "
            f"{format_shape(shape)}; build the model with a fixed input shape such as 32x32x3"
        )
    return math.prod(shape) * _itemsize(str(tensor.dtype))


def _itemsize(dtype: str) -> int:
    return _ITEMSIZE.get(dtype) or np.dtype(dtype).itemsize


def peak_bytes(nodes: list[Any], outputs: list[Any]) -> int:
    """Largest sum of live tensors while a node runs (its inputs stay live, plus its output)."""
    uses = _use_counts(nodes, outputs)
    live: dict[int, int] = {}
    peak = 0
    for node in nodes:
        new = {id(t): tensor_bytes(t) for t in node.output_tensors}
        peak = max(peak, sum(live.values()) + sum(new.values()))
        live.update({k: v for k, v in new.items() if uses.get(k)})  # unused outputs: freed
        for tensor_id in {id(t) for t in node.input_tensors}:
            uses[tensor_id] -= 1
            if uses[tensor_id] == 0:
                del live[tensor_id]
    return peak


def _use_counts(nodes: list[Any], outputs: list[Any]) -> dict[int, int]:
    """Tensor id -> how many nodes read it (model outputs count once more: live to the end)."""
    uses: dict[int, int] = {}
    for node in nodes:
        for tensor_id in {id(t) for t in node.input_tensors}:
            uses[tensor_id] = uses.get(tensor_id, 0) + 1
    for tensor in outputs:
        uses[id(tensor)] = uses.get(id(tensor), 0) + 1
    return uses
