"""Re-quantizing a calibrated model with some ops left in float: TensorFlow's private call.

Neither route TensorFlow makes public does what ``--max-drop`` needs: the
QuantizationDebugger's ``denylisted_nodes`` option re-builds its instrumented model on every
change and cannot give int8 model inputs and outputs, and ai-edge-quantizer works on its own
recipes rather than on TFLiteConverter's calibration. So the call to
``tensorflow.lite.python.convert.mlir_quantize`` (the function the debugger itself uses) is
made here and nowhere else; tests/optimize/test_mixedquant.py checks its signature, so a TensorFlow
release that changes it fails there by name.
"""

from __future__ import annotations

from edgecnn.core.modes import IOType
from edgecnn.optimize.convert import run_converter
from edgecnn.training import tfdeps

# The keyword arguments edgecnn passes; the test checks the installed TensorFlow takes them.
MLIR_QUANTIZE_ARGS = ("fully_quantize", "input_data_type", "output_data_type", "denylisted_nodes")


def mlir_quantize():
    """TensorFlow's private ``mlir_quantize`` function."""
    tfdeps.tensorflow()
    from tensorflow.lite.python import convert as lite_convert

    return lite_convert.mlir_quantize


def quantize_except(calibrated: bytes, float_nodes: list[str], io_type: IOType) -> bytes:
    """Quantizes a calibrated model to int8 except the ops writing ``float_nodes``.

    Args:
        calibrated: the converter's calibrated (not yet quantized) model.
        float_nodes: output tensor names of the ops to keep in float.
        io_type: int8 or float model input and output.
    """
    tf = tfdeps.tensorflow()
    io_dtype = tf.int8 if io_type == IOType.INT else tf.float32
    quantize = mlir_quantize()
    return run_converter(
        lambda: quantize(
            calibrated,
            fully_quantize=io_type == IOType.INT,
            input_data_type=io_dtype,
            output_data_type=io_dtype,
            denylisted_nodes=list(float_nodes),
        ),
        what="mixed int8 conversion",
    )
