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
from edgecnn.core.modes import IOType, Mode
from edgecnn.core.preprocess import Preprocessing
from edgecnn.core.records import Record, from_json

FORMAT_VERSION = 1


@dataclass(frozen=True)
class VariantInfo(Record):
    """Which variant of the source model a .tflite is.

    Attributes:
        mode: the quantization mode (None: not known, e.g. a model edgecnn did not convert).
        io: integer or float input/output (full-integer modes).
        pruned: converted from a pruned model.
        float_layers: layers kept in float to stay within an accuracy budget.
    """

    mode: Mode | None = None
    io: IOType | None = None
    pruned: bool = False
    float_layers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Manifest(Record):
    """A model card for one .tflite variant.

    Attributes:
        labels: class names in output order.
        input: shape, dtype, scale, zero_point of the input tensor.
        output: the same for the output tensor.
        preprocessing: the training preprocessing (None: not known, ``{}`` in the file).
        variant: which variant it is: mode, io, pruned, layers kept in float.
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
    preprocessing: Preprocessing | None
    variant: VariantInfo
    source_model: str
    metrics: dict
    sha256: str
    size_bytes: int
    versions: dict
    dataset_fingerprint: str | None = None
    format_version: int = FORMAT_VERSION
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; no preprocessing is written as ``{}``."""
        return super().to_dict() | {"preprocessing": _prep_dict(self.preprocessing)}

    @classmethod
    def from_dict(cls, data: Any) -> Manifest:
        """Reads :meth:`to_dict` output: ``{}`` preprocessing is None.

        Raises:
            TypeError: not a mapping, unknown or missing keys.
            ValueError: an unknown mode or io, a class name given twice.
            BadInputError: a preprocessing :meth:`Preprocessing.from_dict` refuses.
        """
        if not isinstance(data, dict):
            raise TypeError(f"a manifest must be a JSON object, got {data!r:.40}")
        if not isinstance(data.get("sha256", ""), str):  # compared with the model's hash
            raise TypeError(f"sha256 must be the model's hex digest, got {data['sha256']!r:.40}")
        values = dict(data)  # a missing key stays missing: the constructor names it
        twice = repeated_label(values.get("labels"))
        if twice is not None:
            first, again = twice
            raise ValueError(
                f"labels repeat {values['labels'][first]!r} (outputs {first} and {again}); "
                "each output needs its own class name"
            )
        if "preprocessing" in values:
            prep = values["preprocessing"]
            values["preprocessing"] = None if prep == {} else Preprocessing.from_dict(prep)
        if "variant" in values:
            values["variant"] = from_json(VariantInfo, values["variant"])
        return cls(**values)


def repeated_label(labels: Any) -> tuple[int, int] | None:
    """The indexes of the first class name that appears twice, or None.

    Two outputs with one name cannot be told apart in results, smoothing or accuracy, so
    every reader of class names (a run's labels.txt, a manifest) refuses them.
    """
    seen: dict[str, int] = {}
    for index, label in enumerate(labels if isinstance(labels, list | tuple) else ()):
        if not isinstance(label, str):
            continue  # not a name at all: the label count and types are checked elsewhere
        if label in seen:
            return seen[label], index
        seen[label] = index
    return None


def _prep_dict(prep: Preprocessing | None) -> dict[str, Any]:
    """The preprocessing as written in a manifest: ``{}`` when there is none."""
    return prep.to_dict() if prep is not None else {}


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
        manifest = Manifest.from_dict(data)
    except (ValueError, TypeError) as exc:
        raise BadInputError(f"{path} is not a valid edgecnn manifest: {exc}") from None
    except BadInputError as exc:  # the preprocessing's own message, told where it is
        raise BadInputError(f"{path}: {exc}") from None
    if verify:
        actual = sha256_of(tflite_path)
        if actual != manifest.sha256:
            raise BadInputError(
                f"{tflite_path} does not match its manifest (sha256 {actual[:12]}..., manifest "
                f"says {manifest.sha256[:12]}...); the model was changed or the wrong file is there"
            )
    return manifest
