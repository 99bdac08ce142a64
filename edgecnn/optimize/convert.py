"""Keras to TFLite/LiteRT conversion: fp32, fp16, dynamic-range, int8 and int16x8.

Builtin ops only (no SELECT_TF_OPS): the slim device runtimes cannot run TensorFlow ops.
Models are converted at batch size 1 so every shape is static, as TFLite Micro needs.
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from collections.abc import Callable, Iterator

import numpy as np

from edgecnn.core import nativeio
from edgecnn.core.errors import ModelError
from edgecnn.core.modes import IOType, Mode
from edgecnn.training import tfdeps

keras = tfdeps.keras()
tf = tfdeps.tensorflow()


def batch_one(model):
    """The same model with a fixed batch of 1 (static reshapes, no SHAPE/PACK ops)."""
    inputs = keras.Input(tuple(model.input_shape[1:]), batch_size=1, name="input")
    return keras.Model(inputs, model(inputs), name=model.name)


def make_converter(model, mode: Mode, *, calibration: np.ndarray | None, io_type: IOType):
    """A TFLiteConverter set up for ``mode`` (not yet run)."""
    converter = tf.lite.TFLiteConverter.from_keras_model(batch_one(model))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if mode == Mode.FP32:
        return converter
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == Mode.FP16:
        converter.target_spec.supported_types = [tf.float16]
    elif mode.needs_calibration:
        if calibration is None:
            raise ModelError(f"{mode} conversion needs calibration samples")
        converter.representative_dataset = representative(calibration)
        int16 = mode == Mode.INT16X8
        ops = tf.lite.OpsSet
        converter.target_spec.supported_ops = [
            ops.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
            if int16
            else ops.TFLITE_BUILTINS_INT8
        ]
        if io_type == IOType.INT:
            converter.inference_input_type = tf.int16 if int16 else tf.int8
            converter.inference_output_type = tf.int16 if int16 else tf.int8
    return converter


def representative(samples: np.ndarray) -> Callable[[], Iterator[list[np.ndarray]]]:
    """A representative-dataset factory yielding one float32 sample at a time."""

    def generate() -> Iterator[list[np.ndarray]]:
        for sample in samples:
            yield [np.asarray(sample, dtype=np.float32)[np.newaxis]]

    return generate


def convert(
    model, mode: Mode, *, calibration: np.ndarray | None = None, io_type: IOType = IOType.INT
) -> bytes:
    """Converts a Keras model to .tflite bytes.

    Raises:
        ModelError: the model needs an op the builtin TFLite runtime cannot run (naming the
            ops and layers), or conversion failed for another reason.
    """
    converter = make_converter(model, Mode(mode), calibration=calibration, io_type=io_type)
    return run_converter(converter.convert, what=f"{mode} conversion of {model.name}")


def run_converter(step: Callable[[], bytes], *, what: str) -> bytes:
    """Runs a converter step with its console chatter muted and errors made readable."""
    try:
        with quiet():
            return step()
    except Exception as exc:  # the converter raises many types; each becomes one line
        raise ModelError(f"{what} failed: {describe_failure(exc)}") from exc


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Mutes the converter's prints and native logs (they would corrupt --json output)."""
    with (
        contextlib.redirect_stdout(io.StringIO()),
        nativeio.quiet_native_stderr(),
        warnings.catch_warnings(),
    ):
        # Harmless: TF warns that float input statistics were not given for int8 inputs.
        warnings.filterwarnings("ignore", message="Statistics for quantized inputs")
        # The quantization debugger uses tf.lite.Interpreter internally, which warns.
        warnings.filterwarnings("ignore", message=r"\s*Warning: tf.lite.Interpreter is deprecated")
        yield


def describe_failure(exc: Exception) -> str:
    """One line: the unsupported ops and the layers they came from, or the first line."""
    text = str(exc)
    ops = sorted(set(re.findall(r"\b(tf\.[A-Z]\w+)", text)))  # TF op names are CamelCase
    paths = re.findall(r'"([^"]+/[^"]+)"', text)  # e.g. "model/layer_1/Op@__inference..."
    layers = sorted({re.sub(r"_\d+$", "", p.split("@")[0].split("/")[-2]) for p in paths})
    if ops:
        where = f" in layer(s) {', '.join(layers)}" if layers else ""
        return (
            f"ops {', '.join(ops)}{where} are not TFLite builtin ops; the device runtimes "
            "cannot run them — replace those layers"
        )
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
