"""What an export needs to know of a .tflite: its builtin ops and its input/output tensors.

Read with the LiteRT interpreter without its default delegates: with XNNPACK applied the op
list would show DELEGATE nodes instead of the builtin ops TFLite Micro has to register.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgecnn.core.errors import BadInputError
from edgecnn.core.nativeio import quiet_native_stderr
from edgecnn.device.interpreter import (
    TensorInfo,
    interpreter_class,
    tensor_info,
    without_delegates,
)
from edgecnn.device.opgraph import read_ops
from edgecnn.export.tflm_ops import distinct_ops


@dataclass(frozen=True)
class TFLiteInfo:
    """The ops and the single input and output of a model.

    Attributes:
        ops: builtin op names, each once, in the order the graph first uses them.
        input: the input tensor (shape with batch, dtype, scale, zero point).
        output: the output tensor.
    """

    ops: tuple[str, ...]
    input: TensorInfo
    output: TensorInfo


def read_tflite(data: bytes, *, name: str = "model") -> TFLiteInfo:
    """Reads ops and tensors from .tflite bytes (the flatbuffer is verified first).

    Raises:
        BadInputError: a corrupt or truncated file, or not one input and one output.
    """
    try:
        with quiet_native_stderr():
            interpreter = interpreter_class()(model_content=bytes(data), **without_delegates())
    except ValueError as exc:
        raise BadInputError(
            f"{name} is not a valid .tflite model (truncated or corrupt?): "
            f"{str(exc).splitlines()[0]}"
        ) from None
    inputs, outputs = interpreter.get_input_details(), interpreter.get_output_details()
    if len(inputs) != 1 or len(outputs) != 1:
        raise BadInputError(
            f"{name} has {len(inputs)} inputs and {len(outputs)} outputs; the Arduino export "
            "handles single-input, single-output classifiers"
        )
    ops = distinct_ops([op.op_name for op in read_ops(bytes(data), interpreter)])
    return TFLiteInfo(ops=ops, input=tensor_info(inputs[0]), output=tensor_info(outputs[0]))
