"""The manifest that travels with every .tflite: what a device and a person need.

``model-int8.tflite`` has its manifest in ``model-int8.json`` beside it. The runtime
refuses a model whose sha256 differs from its manifest's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgecnn.core import fileio
from edgecnn.core.errors import BadInputError

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Manifest:
    """A model card for one .tflite variant.

    Attributes:
        labels: class names in output order.
        input: shape, dtype, scale, zero_point of the input tensor.
        output: the same for the output tensor.
        preprocessing: the training preprocessing (``Preprocessing.to_dict()``).
        variant: mode (fp32/fp16/dynamic/int8/int16x8), io, pruned, layers kept in float.
        source_model: the Keras model it was converted from.
        metrics: measured on the held-out test split (accuracy, agreement, ...).
        sha256: of the .tflite bytes.
        size_bytes: of the .tflite file.
        versions: edgecnn, tensorflow (converter) versions.
        dataset_fingerprint: of the training data.
    """

    labels: list[str]
    input: dict
    output: dict
    preprocessing: dict
    variant: dict
    source_model: str
    metrics: dict
    sha256: str
    size_bytes: int
    versions: dict
    dataset_fingerprint: str | None = None
    format_version: int = FORMAT_VERSION
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return dict(self.__dict__)


def manifest_path(tflite_path: str | Path) -> Path:
    """Where the manifest of a .tflite lives."""
    return Path(tflite_path).with_suffix(".json")


def sha256_of(path: str | Path) -> str:
    """Hex sha256 of a file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_manifest(tflite_path: str | Path, manifest: Manifest) -> Path:
    """Writes the manifest beside the model atomically and returns its path."""
    path = manifest_path(tflite_path)
    fileio.write_json(path, manifest.to_dict())
    return path


def load_manifest(tflite_path: str | Path, *, verify: bool = True) -> Manifest:
    """Reads a model's manifest, checking the model's hash against it.

    Raises:
        BadInputError: no manifest, a malformed one, or a hash mismatch.
    """
    path = manifest_path(tflite_path)
    if not path.exists():
        raise BadInputError(
            f"{tflite_path} has no manifest {path.name} beside it; "
            "models from edgecnn quantize have one"
        )
    try:
        data = fileio.read_json(path)
        manifest = Manifest(**data)
    except (ValueError, TypeError) as exc:
        raise BadInputError(f"{path} is not a valid edgecnn manifest: {exc}") from None
    if verify:
        actual = sha256_of(tflite_path)
        if actual != manifest.sha256:
            raise BadInputError(
                f"{tflite_path} does not match its manifest (sha256 {actual[:12]}..., manifest "
                f"says {manifest.sha256[:12]}...); the model was changed or the wrong file is there"
            )
    return manifest
