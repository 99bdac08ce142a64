"""``Runner``: a verified model bundle that turns raw samples into class probabilities.

Device side: numpy and the LiteRT interpreter only.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from edgecnn.core.errors import BadInputError
from edgecnn.core.manifest import Manifest, load_manifest, manifest_path
from edgecnn.core.preprocess import Preprocessing
from edgecnn.device.feed import InputFeed, OutputDecoder
from edgecnn.device.interpreter import TFLiteModel


class Runner:
    """Loads a .tflite and its manifest once; predicts float probabilities.

    The manifest's sha256 is checked first: a model that does not match its manifest is
    refused. Inputs are quantized and outputs dequantized at the interpreter boundary.

    Args:
        model_path: the .tflite file; its manifest ``<name>.json`` must sit beside it.
        threads: interpreter threads (None lets LiteRT decide).
    """

    def __init__(self, model_path: str | os.PathLike, *, threads: int | None = None) -> None:
        self.path = Path(model_path)
        self.manifest: Manifest = load_manifest(self.path)
        if self.manifest.preprocessing is None:
            raise BadInputError(
                f"{manifest_path(self.path)}: the preprocessing is empty; running a model needs "
                "the one it was trained with (models from edgecnn quantize have it)"
            )
        self.preprocessing: Preprocessing = self.manifest.preprocessing
        self.model = TFLiteModel(self.path, threads=threads)
        self._check_bundle()
        self.feed = InputFeed(self.preprocessing, self.model.input)
        self.decode = OutputDecoder(self.model.output)

    def _check_bundle(self) -> None:
        """The manifest must describe this model: one label per output, its input shape."""
        where = manifest_path(self.path)
        labels, outputs = self.manifest.labels, self.model.output.shape[1:]
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise BadInputError(f"{where}: labels must be a list of class names")
        if len(labels) != int(np.prod(outputs)) or len(outputs) != 1:
            raise BadInputError(
                f"{where} has {len(labels)} labels for a model with outputs shaped "
                f"{tuple(outputs)}; it needs one label per class (the manifest belongs to "
                f"another model, or was edited)"
            )
        if tuple(self.model.input.shape[1:]) != self.input_shape:
            raise BadInputError(
                f"{where}: preprocessing input_shape {self.input_shape} does not match the "
                f"model's input {tuple(self.model.input.shape[1:])}"
            )

    @property
    def labels(self) -> list[str]:
        """Class names in output order."""
        return list(self.manifest.labels)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one sample (no batch axis)."""
        return tuple(self.preprocessing.input_shape)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Probabilities for preprocessed model input: one sample or a batch."""
        x = np.asarray(x, dtype=np.float32)
        if x.shape == self.input_shape:  # one sample: skip the batching loop
            return self.model.predict_one(x[np.newaxis])
        return self.model.predict(x)

    def infer(self, tensor: np.ndarray) -> np.ndarray:
        """Float scores of one sample already made input by :attr:`feed`: the loop's path."""
        return self.decode(self.model.invoke_raw(tensor)[0])

    def predict_raw(self, raw: np.ndarray) -> np.ndarray:
        """Probabilities for raw samples, preprocessed exactly as in training."""
        return self.predict(self.preprocessing.apply(raw))

    def close(self) -> None:
        """Releases the interpreter."""
        self.model = None  # type: ignore[assignment]

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
