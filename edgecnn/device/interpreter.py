"""A LiteRT interpreter with float in, float out: quantization handled at the boundary.

Uses ``ai_edge_litert``; falls back to ``tflite_runtime`` (32-bit Raspberry Pi OS). Never
falls back to TensorFlow: the device side must run without it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from edgecnn.core.errors import BadInputError, MissingDependencyError
from edgecnn.core.nativeio import quiet_native_stderr
from edgecnn.core.records import Record
from edgecnn.device import opgraph
from edgecnn.device.inputshape import size_input


def interpreter_class() -> type:
    """The Interpreter class of the installed LiteRT package."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            raise MissingDependencyError(
                'no LiteRT interpreter is installed; install it with pip install "edgecnn[device]"'
            ) from None
    return Interpreter


def without_delegates() -> dict:
    """Interpreter kwargs that keep the builtin ops (no XNNPACK DELEGATE nodes), if supported."""
    try:
        from ai_edge_litert.interpreter import OpResolverType
    except ImportError:
        try:
            from tflite_runtime.interpreter import OpResolverType
        except ImportError:
            return {}
    return {"experimental_op_resolver_type": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}


@dataclass(frozen=True)
class TensorInfo(Record):
    """Shape, dtype and quantization of a model input or output."""

    shape: tuple[int, ...]
    dtype: str
    scale: float
    zero_point: int

    @cached_property
    def quantized(self) -> bool:
        """True for integer tensors with a scale (int8, uint8, int16)."""
        return self.scale != 0.0 and np.dtype(self.dtype).kind in "iu"

    @cached_property
    def limits(self) -> tuple[int, int]:
        """The integer dtype's range (np.iinfo costs microseconds: worked out once)."""
        info = np.iinfo(self.dtype)
        return int(info.min), int(info.max)

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """Float values to this tensor's dtype (rounding and clipping if integer)."""
        if not self.quantized:
            return np.asarray(x, dtype=self.dtype)
        low, high = self.limits
        # rint is np.round at 0 decimals (half to even), and maximum/minimum are np.clip,
        # minus numpy's Python-level wrappers: the runtime loop calls this per window.
        q = np.rint(np.asarray(x, np.float32) / self.scale)
        if high > 2**24:  # int32: float32 cannot hold the limits (2**31 - 1 rounds up)
            q = q.astype(np.float64)
        q += self.zero_point
        np.maximum(q, low, out=q)
        np.minimum(q, high, out=q)
        return q.astype(self.dtype)

    def dequantize(self, y: np.ndarray) -> np.ndarray:
        """This tensor's values as float32."""
        if not self.quantized:
            return np.asarray(y, dtype=np.float32)
        return (y.astype(np.float32) - self.zero_point) * np.float32(self.scale)


def tensor_info(detail: dict) -> TensorInfo:
    """TensorInfo from an interpreter's input or output detail dict."""
    scale, zero_point = detail.get("quantization", (0.0, 0))
    return TensorInfo(
        tuple(int(s) for s in detail["shape"]),
        np.dtype(detail["dtype"]).name,
        float(scale),
        int(zero_point),
    )


class TFLiteModel:
    """Runs a single-input, single-output .tflite classifier on float samples.

    Args:
        model: a path to a .tflite file or its bytes.
        threads: interpreter threads; None lets LiteRT decide.
        input_shape: sizes (without the batch) for a model whose input is dynamic.
    """

    def __init__(
        self,
        model: str | os.PathLike | bytes,
        *,
        threads: int | None = None,
        input_shape: tuple[int, ...] | None = None,
    ) -> None:
        cls = interpreter_class()
        try:
            with quiet_native_stderr():  # LiteRT logs its delegate choice on every load
                if isinstance(model, bytes | bytearray):
                    self.interpreter = cls(model_content=bytes(model), num_threads=threads)
                else:
                    self.interpreter = cls(model_path=os.fspath(model), num_threads=threads)
                size_input(self.interpreter, input_shape)
                self.interpreter.allocate_tensors()
        except ValueError as exc:
            raise BadInputError(f"not a valid .tflite model: {str(exc).splitlines()[0]}") from None
        inputs, outputs = (
            self.interpreter.get_input_details(),
            self.interpreter.get_output_details(),
        )
        if len(inputs) != 1 or len(outputs) != 1:
            raise BadInputError(
                f"model has {len(inputs)} inputs and {len(outputs)} outputs; edgecnn runs "
                "single-input, single-output classifiers"
            )
        self.input_index, self.output_index = inputs[0]["index"], outputs[0]["index"]
        self.input, self.output = tensor_info(inputs[0]), tensor_info(outputs[0])

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        """Float model input to the input tensor's dtype (rounding and clipping if integer)."""
        return self.input.quantize(x)

    def dequantize_output(self, y: np.ndarray) -> np.ndarray:
        """The output tensor as float32."""
        return self.output.dequantize(y)

    def invoke_raw(self, x: np.ndarray) -> np.ndarray:
        """Runs one batch already in the input dtype; returns the raw output tensor."""
        self.interpreter.set_tensor(self.input_index, x)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output_index)  # already a copy

    def predict_one(self, x: np.ndarray) -> np.ndarray:
        """Probabilities for one batch-shaped input: the runtime loop's hot path."""
        return self.dequantize_output(self.invoke_raw(self.quantize_input(x))[0])

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Float probabilities for a batch of float samples (run one batch-size at a time)."""
        x = np.asarray(x, dtype=np.float32)
        batch = self.input.shape[0] or 1
        if x.shape[1:] != self.input.shape[1:]:
            raise BadInputError(
                f"samples shaped {x.shape[1:]}; the model takes {self.input.shape[1:]}"
            )
        outs = [
            self.dequantize_output(self.invoke_raw(self.quantize_input(x[i : i + batch])))
            for i in range(0, len(x), batch)
        ]
        return np.concatenate(outs) if outs else np.empty((0, *self.output.shape[1:]))

    def op_names(self) -> list[str]:
        """The op names LiteRT executes, in order: ``DELEGATE`` where XNNPACK took ops over.

        Only the interpreter knows what a delegate replaced, so this asks it, not the file.
        """
        return [op.op_name for op in opgraph.ops_from_interpreter(self.interpreter)]
