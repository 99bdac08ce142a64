"""What a .tflite graph computes: ops, dtypes, MACs and bytes moved, read with LiteRT only.

The cost models (edgecnn.targets.costmodel) turn these counts into latency per board. Reading uses
the interpreter without delegates, so the ops are the builtin ops the file holds, not
XNNPACK's fused DELEGATE nodes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from edgecnn.core.errors import BadInputError
from edgecnn.core.nativeio import quiet_native_stderr
from edgecnn.core.records import Record
from edgecnn.device.inputshape import is_dynamic, size_input
from edgecnn.device.interpreter import interpreter_class, without_delegates
from edgecnn.device.opgraph import OpDetails, read_ops

DENSE_OPS = {"CONV_2D", "FULLY_CONNECTED", "BATCH_MATMUL", "TRANSPOSE_CONV"}
DEPTHWISE_OPS = {"DEPTHWISE_CONV_2D"}
# Element-wise, activation, pooling and copying ops: on a Cortex-A their time goes with the
# bytes they read and write, not with MACs (squeeze-excite and hard-swish are made of them).
MEMORY_BOUND_OPS = {
    "ADD", "SUB", "MUL", "DIV", "SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM",
    "HARD_SWISH", "LOGISTIC", "TANH", "RELU", "RELU6", "RELU_N1_TO_1", "LEAKY_RELU", "PRELU",
    "MEAN", "SUM", "AVERAGE_POOL_2D", "MAX_POOL_2D", "CONCATENATION", "PAD", "PADV2",
    "QUANTIZE", "DEQUANTIZE",
}


@dataclass(frozen=True)
class OpCost(Record):
    """One op of the graph.

    Attributes:
        index: position in execution order.
        name: builtin op name, e.g. ``CONV_2D``.
        kind: ``dense`` (conv/fully connected), ``depthwise``, ``memory`` (element-wise,
            activation, pooling, concatenation: costed by bytes moved) or ``other``.
        dtype: activation dtype of its first input (int8, float32, int16, ...).
        macs: multiply-accumulates.
        activation_bytes: bytes of its non-constant inputs and outputs.
        weight_bytes: bytes of its constant inputs (weights, biases).
    """

    index: int
    name: str
    kind: str
    dtype: str
    macs: int
    activation_bytes: int
    weight_bytes: int


@dataclass(frozen=True)
class GraphCost:
    """All ops of a model and their totals.

    ``dynamic_input`` is True when the file leaves input sizes open (read at --input-shape):
    its counts hold for that size only, and TFLite Micro cannot run it.
    """

    ops: tuple[OpCost, ...]
    model_bytes: int
    tensor_bytes: int
    dynamic_input: bool = False

    @property
    def macs(self) -> int:
        """Total multiply-accumulates."""
        return sum(op.macs for op in self.ops)

    @property
    def memory_bound_bytes(self) -> int:
        """Bytes read and written by the memory-bound ops (see ``MEMORY_BOUND_OPS``)."""
        return sum(op.activation_bytes for op in self.ops if op.kind == "memory")

    def macs_of(self, kind: str) -> int:
        """MACs of ops of one kind (dense, depthwise, memory, other)."""
        return sum(op.macs for op in self.ops if op.kind == kind)

    @property
    def dtype(self) -> str:
        """The dtype most MACs run in (what decides the kernel speed)."""
        by_dtype: dict[str, int] = {}
        for op in self.ops:
            by_dtype[op.dtype] = by_dtype.get(op.dtype, 0) + op.macs
        return max(by_dtype, key=by_dtype.get) if by_dtype else "float32"

    def features(self) -> dict:
        """The counts a cost model uses."""
        return {
            "dense_macs": self.macs_of("dense"),
            "depthwise_macs": self.macs_of("depthwise"),
            "ops": len(self.ops),
            "activation_bytes": sum(o.activation_bytes for o in self.ops),
            "memory_bytes": self.memory_bound_bytes,
            "dtype": self.dtype,
        }


def read_graph(
    model: str | os.PathLike | bytes, *, input_shape: tuple[int, ...] | None = None
) -> GraphCost:
    """Reads a .tflite (path or bytes) into per-op costs.

    Args:
        model: the .tflite file or its bytes.
        input_shape: the sizes (without the batch) to read a dynamic-input model at.

    Raises:
        BadInputError: not a valid .tflite file; a dynamic input without ``input_shape``
            or an ``input_shape`` that does not fit the model.
    """
    data = model if isinstance(model, bytes | bytearray) else _read(model)
    resolver = without_delegates()
    try:
        with quiet_native_stderr():
            interpreter = interpreter_class()(model_content=bytes(data), **resolver)
            size_input(interpreter, input_shape)
            interpreter.allocate_tensors()
    except ValueError as exc:
        raise BadInputError(f"not a valid .tflite model: {str(exc).splitlines()[0]}") from None
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    op_list = read_ops(bytes(data), interpreter)
    constant = _constant_tensors(interpreter, op_list, tensors)
    ops = tuple(_op_cost(i, op, tensors, constant) for i, op in enumerate(op_list))
    tensor_bytes = sum(_nbytes(t) for i, t in tensors.items() if i not in constant)
    return GraphCost(ops, len(data), tensor_bytes, dynamic_input=is_dynamic(interpreter))


def _read(path: str | os.PathLike) -> bytes:
    try:
        return open(path, "rb").read()  # noqa: SIM115 - one short read
    except OSError as exc:
        raise BadInputError(f"cannot read model {path}: {exc.strerror}") from None


def _constant_tensors(interpreter, ops: list[OpDetails], tensors: dict) -> set[int]:
    """Tensors no op writes and that are not model inputs: weights, biases, shapes."""
    written = {i for op in ops for i in op.outputs}
    inputs = {d["index"] for d in interpreter.get_input_details()}
    return set(tensors) - written - inputs


def _nbytes(tensor: dict) -> int:
    return int(np.prod(tensor["shape"], dtype=np.int64)) * np.dtype(tensor["dtype"]).itemsize


def _op_cost(index: int, op: OpDetails, tensors: dict, constant: set[int]) -> OpCost:
    inputs = [tensors[i] for i in op.inputs if i >= 0]
    outputs = [tensors[i] for i in op.outputs]
    name = op.op_name
    kind = _kind(name)
    moving = [t for t in inputs if t["index"] not in constant] + outputs
    first = moving[0] if moving else (inputs or outputs)[0]
    return OpCost(
        index=index,
        name=name,
        kind=kind,
        dtype=np.dtype(first["dtype"]).name,
        macs=_macs(name, inputs, outputs),
        activation_bytes=sum(_nbytes(t) for t in moving),
        weight_bytes=sum(_nbytes(t) for t in inputs if t["index"] in constant),
    )


def _kind(name: str) -> str:
    if name in DENSE_OPS:
        return "dense"
    if name in DEPTHWISE_OPS:
        return "depthwise"
    return "memory" if name in MEMORY_BOUND_OPS else "other"


def _macs(name: str, inputs: list[dict], outputs: list[dict]) -> int:
    """Multiply-accumulates of conv-like ops (0 for the rest), batch included."""
    if len(inputs) < 2 or not outputs:
        return 0
    out = outputs[0]["shape"]
    weights = inputs[1]["shape"]
    if name == "CONV_2D":  # weights (O, KH, KW, I/groups), output (N, OH, OW, O)
        return int(np.prod(out, dtype=np.int64) * np.prod(weights[1:], dtype=np.int64))
    if name == "DEPTHWISE_CONV_2D":  # weights (1, KH, KW, C*M), output (N, OH, OW, C*M)
        return int(np.prod(out, dtype=np.int64) * weights[1] * weights[2])
    if name == "FULLY_CONNECTED":  # weights (O, I), output (..., O)
        return int(np.prod(out, dtype=np.int64) * weights[-1])
    if name == "TRANSPOSE_CONV":  # weights (O, KH, KW, I); every input pixel hits KH*KW*O
        source = inputs[2]["shape"] if len(inputs) > 2 else out
        return int(np.prod(source, dtype=np.int64) * np.prod(weights[:3], dtype=np.int64))
    return 0
