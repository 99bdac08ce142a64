"""Per-layer summary of a Keras model: output shapes, params, MACs and activation memory.

MACs are multiply-accumulates for one input (batch 1), counted the way the MLPerf Tiny
references are: convolutions and dense layers only (``summary_macs``). Peak activation memory
walks the graph in execution order and keeps every tensor until its last consumer has run,
which is what a TFLite-style arena has to hold (``summary_graph``). ``format_table``
(``summary_format``) prints the result, a :class:`ModelSummary` (``summary_records``).
Importing this module does not import Keras.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from edgecnn.core.errors import BadInputError, ModelError
from edgecnn.core.shapes import check_input_size
from edgecnn.training import modelio, tfdeps
from edgecnn.training.summary_format import format_table
from edgecnn.training.summary_graph import execution_order, peak_bytes, tensor_bytes
from edgecnn.training.summary_macs import layer_macs
from edgecnn.training.summary_records import LayerSummary, ModelSummary

__all__ = ["LayerSummary", "ModelSummary", "format_table", "summarize", "summarize_source"]


def summarize(model: Any) -> ModelSummary:
    """Summarizes a built functional or Sequential Keras model.

    A nested model counts as one row whose MACs are those of its own layers.

    Raises:
        ModelError: for a subclassed model (no graph to walk) or an unknown input size.
    """
    keras = tfdeps.keras()
    graph = modelio.functional_graph(model, purpose="summarize")
    nodes = execution_order(graph)
    rows = _rows(nodes, keras)
    inputs = [tuple(t.shape[1:]) for t in graph.inputs]
    return ModelSummary(
        name=model.name,
        input_shape=inputs[0] if len(inputs) == 1 else tuple(inputs),
        layers=tuple(rows),
        total_params=sum(r.params for r in rows),
        trainable_params=sum(math.prod(w.shape) for w in model.trainable_weights),
        total_macs=sum(r.macs for r in rows),
        peak_activation_bytes=peak_bytes(nodes, graph.outputs),
    )


def _rows(nodes: list[Any], keras: Any) -> list[LayerSummary]:
    """One row per call node; a shared layer's params go on its first call only."""
    rows, seen = [], set()
    for node in nodes:
        op = node.operation
        first = id(op) not in seen
        seen.add(id(op))
        rows.append(_row(op, node, keras, first=first))
    return rows


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
    from edgecnn.training.models import build_model

    path = Path(source)
    spec = _zoo_spec(source) if not path.suffix else None
    if spec is not None:
        input_shape = spec.default_input_shape if input_shape is None else input_shape
        check_input_size(input_shape)
        model = build_model(
            spec.name,
            input_shape=input_shape,
            num_classes=spec.default_num_classes if num_classes is None else num_classes,
        )
        return summarize(model)
    _check_file_source(source, path, given=input_shape is not None or num_classes is not None)
    from edgecnn.training.modelio import load_keras_model

    return summarize(load_keras_model(path))


def _check_file_source(source: str, path: Path, *, given: bool) -> None:
    """Refuses a source that is no zoo name and no .keras file, or a file with a shape."""
    from edgecnn.training.models import MODELS

    if not path.suffix and not path.exists():
        raise BadInputError(
            f"{source!r} is neither a zoo model ({', '.join(MODELS)}) nor a .keras file"
        )
    if path.suffix.lower() == ".tflite":
        raise BadInputError(
            f"summary of .tflite files is not supported yet ({source}); "
            "give a zoo model name or a .keras file"
        )
    if given:
        raise BadInputError(
            f"input shape and class count apply to zoo models only; {source} has its own"
        )


def _zoo_spec(source: str) -> Any:
    from edgecnn.training.models import get_spec

    try:
        return get_spec(source)
    except ModelError:
        return None


def _row(op: Any, node: Any, keras: Any, *, first: bool) -> LayerSummary:
    outputs = node.output_tensors
    shapes = [tuple(t.shape[1:]) for t in outputs]
    is_layer = isinstance(op, keras.layers.Layer)
    activation_bytes = sum(tensor_bytes(t) for t in outputs)  # first: refuses unknown sizes
    return LayerSummary(
        name=op.name if first else f"{op.name} (shared)",
        type=type(op).__name__,
        output_shape=shapes[0] if len(shapes) == 1 else tuple(shapes),
        params=int(op.count_params()) if first and is_layer and op.built else 0,
        macs=_macs(op, node, keras),
        activation_bytes=activation_bytes,
    )


def _macs(op: Any, node: Any, keras: Any) -> int:
    """Multiply-accumulates of one call, batch 1; a nested model sums its own layers."""
    if isinstance(op, keras.Model):
        return summarize(op).total_macs
    return layer_macs(op, node, keras)
