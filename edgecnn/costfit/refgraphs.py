"""The reference models behind the boards' published latencies, rebuilt offline.

Each ``graph`` name used in a board file's ``[[measured]]`` entry maps to a builder here
(``keras.applications`` with ``weights=None`` or the zoo), so the cost model can read the
same graph the published figure measured. Host side: needs TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgecnn.core.errors import BadInputError
from edgecnn.core.modes import Mode
from edgecnn.optimize.convert import convert
from edgecnn.targets.graph import read_graph
from edgecnn.training import tfdeps
from edgecnn.training.models.registry import build_model

CALIBRATION_SAMPLES = 8  # ranges only shape the int8 scales, not the graph or its MACs


def _applications(name: str, **kwargs) -> Callable[[], object]:
    def build():
        keras = tfdeps.keras()
        return getattr(keras.applications, name)(weights=None, **kwargs)

    return build


def _zoo(name: str, shape: tuple[int, ...], classes: int, **kwargs) -> Callable[[], object]:
    return lambda: build_model(name, input_shape=shape, num_classes=classes, seed=0, **kwargs)


REFERENCE_GRAPHS: dict[str, Callable[[], object]] = {
    "mobilenet_v1_224": _applications("MobileNet", alpha=1.0),
    "mobilenet_v2_224": _applications("MobileNetV2", alpha=1.0),
    "resnet8_32": _zoo("resnet8", (32, 32, 3), 10),
    "vww_96x96x3": _zoo("mobilenet_v1", (96, 96, 3), 2, width=0.25),
    "person_detection_96x96x1": _zoo("mobilenet_v1", (96, 96, 1), 2, width=0.25),
}


def graph_features(name: str, dtype: str) -> dict:
    """Builds a reference graph, converts it to ``dtype`` (fp32 or int8), counts its costs."""
    return read_graph(graph_tflite(name, dtype)).features()


def graph_tflite(name: str, dtype: str) -> bytes:
    """A reference graph converted to ``dtype`` (fp32 or int8, with int8 input and output)."""
    if name not in REFERENCE_GRAPHS:
        raise BadInputError(f"unknown reference graph {name!r}; known: {sorted(REFERENCE_GRAPHS)}")
    model = REFERENCE_GRAPHS[name]()
    mode = Mode.INT8 if dtype == "int8" else Mode.FP32
    shape = (CALIBRATION_SAMPLES, *model.input_shape[1:])
    calibration = np.random.default_rng(0).random(shape, dtype=np.float32)
    _spread_logits(model, calibration)
    return convert(model, mode, calibration=calibration)


LOGIT_STD = 4.0


def _spread_logits(model, calibration: np.ndarray) -> None:
    """Scales the last Dense layer so the logits spread like a trained model's.

    Untrained, the logits on random inputs are nearly equal; their int8 scale is then so
    small that TFLite Micro's SOFTMAX refuses it (it aborts computing its multiplier). The
    graph, its ops and MACs are unchanged.
    """
    keras = tfdeps.keras()
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    if not dense:
        return
    last = dense[-1]
    features = keras.Model(model.input, last.input)(calibration, training=False)
    kernel, bias = last.get_weights()
    logits = np.asarray(features) @ kernel + bias
    spread = float(np.std(logits))
    if spread > 0:
        last.set_weights([kernel * (LOGIT_STD / spread), bias * (LOGIT_STD / spread)])
