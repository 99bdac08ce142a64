"""Keep the int8 layers that hurt most in float until an accuracy budget holds.

TensorFlow's QuantizationDebugger calibrates once and measures each quantized op's error
against its float twin; each op is then tried in float alone (with the ops that consume it,
or its output would be re-quantized right away) and ranked by the accuracy it wins back.
Layers are kept in float in that order, fewest first, until the budget holds.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edgecnn.core.modes import IOType, Mode
from edgecnn.device.interpreter import interpreter_class
from edgecnn.device.opgraph import read_ops
from edgecnn.optimize.convert import make_converter, representative, run_converter
from edgecnn.optimize.mixedquant import quantize_except
from edgecnn.training import tfdeps

tf = tfdeps.tensorflow()
MAX_DEBUG_SAMPLES = 64


@dataclass(frozen=True)
class FallbackResult:
    """The mixed model and what it kept in float."""

    model: bytes
    float_layers: tuple[str, ...]
    met_budget: bool


def channel_relative_error(float_t, quant_t, scale, zero_point) -> float:
    """Mean over channels of RMS(quantization error) / RMS(signal), for one sample.

    A per-channel measure: an outlier channel that stretches the shared int8 range can
    round the informative channels to zero while the tensor-wide error looks small.
    """
    error = float_t - (quant_t.astype(np.float32) - zero_point) * scale
    axes = tuple(range(float_t.ndim - 1))
    signal = np.sqrt(np.mean(np.square(float_t), axis=axes))
    noise = np.sqrt(np.mean(np.square(error), axis=axes))
    return float(np.mean(noise / (signal + 1e-6)))


def keep_worst_in_float(
    model,
    *,
    calibration: np.ndarray,
    accuracy_of: Callable[[bytes], float],
    target_accuracy: float,
    io_type: IOType = IOType.INT,
) -> FallbackResult:
    """Finds few layers to keep in float so that accuracy reaches the target.

    Each quantized op is tried alone in float (with its consumers) and ranked by the
    accuracy it wins back, ties broken by the debugger's per-channel error; then layers are
    added in that order until the target holds.

    Args:
        model: the Keras model.
        calibration: calibration samples (model input).
        accuracy_of: measures a candidate .tflite (on a validation split, not the test one).
        target_accuracy: the accuracy to reach.
        io_type: int8 or float model input/output.
    """
    debugger = _debugger(model, calibration)
    errors = _layer_errors(debugger)
    consumers = _consumers(debugger.calibrated_model)

    def with_consumers(nodes: list[str]) -> list[str]:
        return list(dict.fromkeys(n for node in nodes for n in (node, *consumers.get(node, ()))))

    def measure(nodes: list[str]) -> tuple[float, bytes]:
        candidate = quantize_except(debugger.calibrated_model, with_consumers(nodes), io_type)
        return accuracy_of(candidate), candidate

    gains = {node: measure([node])[0] for node in errors}
    ranked = sorted(errors, key=lambda n: (gains[n], errors[n]), reverse=True)
    best: tuple[float, bytes, list[str]] | None = None
    for count in range(1, len(ranked) + 1):
        nodes = with_consumers(ranked[:count])
        accuracy, candidate = measure(ranked[:count])
        if best is None or accuracy > best[0]:
            best = (accuracy, candidate, nodes)
        if accuracy >= target_accuracy:
            return FallbackResult(candidate, layer_names(nodes), met_budget=True)
    if best is None:
        raise RuntimeError("the quantization debugger found no quantized layer")
    return FallbackResult(best[1], layer_names(best[2]), met_budget=False)


def layer_names(nodes: list[str]) -> tuple[str, ...]:
    """Keras layer names behind TFLite tensor names (``.../fc1_1/MatMul;...`` -> ``fc1``)."""
    names = []
    for node in nodes:
        parts = node.split(";")[0].split("/")
        name = re.sub(r"_\d+$", "", parts[-2]) if len(parts) >= 2 else "output"
        names.append(name)
    return tuple(dict.fromkeys(names))


def _debugger(model, calibration: np.ndarray):
    converter = make_converter(model, Mode.INT8, calibration=calibration, io_type=IOType.FLOAT)
    options = tf.lite.experimental.QuantizationDebugOptions(
        layer_direct_compare_metrics={"channel_rel_error": channel_relative_error}
    )
    debug_data = representative(calibration[:MAX_DEBUG_SAMPLES])

    def build():
        debugger = tf.lite.experimental.QuantizationDebugger(
            converter=converter, debug_dataset=debug_data, debug_options=options
        )
        debugger.run()
        return debugger

    return run_converter(build, what="quantization debugging")


def _layer_errors(debugger) -> dict[str, float]:
    """Per-channel relative error of each quantized op, keyed by its output tensor name."""
    buffer = io.StringIO()
    debugger.layer_statistics_dump(buffer)
    rows = buffer.getvalue().strip().splitlines()
    header = rows[0].split(",")
    col_error, col_name = header.index("channel_rel_error"), header.index("tensor_name")
    parsed = [row.split(",") for row in rows[1:]]
    return {r[col_name]: float(r[col_error]) for r in parsed}


def _consumers(model_bytes: bytes) -> dict[str, tuple[str, ...]]:
    """For each tensor name, the output tensor names of the ops that read it."""
    interpreter = interpreter_class()(model_content=model_bytes)
    names = {t["index"]: t["name"] for t in interpreter.get_tensor_details()}
    readers: dict[str, list[str]] = {}
    for op in read_ops(model_bytes, interpreter):
        outputs = [names[i] for i in op.outputs if i in names]
        for i in op.inputs:
            if i in names:
                readers.setdefault(names[i], []).extend(outputs)
    return {k: tuple(v) for k, v in readers.items()}
