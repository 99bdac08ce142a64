"""The one private TensorFlow call edgecnn makes is still there and takes what we pass."""

import inspect

from edgecnn.optimize import mixedquant


def test_mlir_quantize_exists_with_the_keywords_edgecnn_passes():
    function = mixedquant.mlir_quantize()
    parameters = inspect.signature(function).parameters
    missing = [a for a in mixedquant.MLIR_QUANTIZE_ARGS if a not in parameters]
    assert not missing, f"tensorflow.lite.python.convert.mlir_quantize lost {missing}"
