"""Loading and saving Keras ``.keras`` model files, safely and atomically.

Loading never runs code stored in a model file: Keras's safe mode is on, Lambda layers are
refused before Keras sees them, and only built-in Keras objects can be deserialized.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path
from typing import Any

from edgecnn.core import fileio
from edgecnn.core.errors import ModelError
from edgecnn.training import tfdeps


def load_keras_model(path: str | os.PathLike) -> Any:
    """Loads a ``.keras`` model without compiling it and without running code from the file.

    Raises:
        ModelError: one line naming the file and what is wrong with it (missing, not a
            .keras archive, truncated, a Lambda layer, an unknown custom object, ...).
    """
    path = Path(path)
    config = _read_config(path)
    lambda_name = _find_lambda(config)
    if lambda_name is not None:
        raise ModelError(
            f"model file {path} contains a Lambda layer ({lambda_name}); edgecnn never runs "
            "Python code stored in a model file — rebuild the model with built-in layers"
        )
    keras = tfdeps.keras()
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises many types; each becomes one clear line
        raise ModelError(_load_failure(path, exc)) from exc
    if not isinstance(model, keras.Model):
        raise ModelError(f"model file {path} holds a {type(model).__name__}, not a Keras model")
    return model


def save_keras_model(model: Any, path: str | os.PathLike) -> Path:
    """Saves a Keras model to a ``.keras`` file atomically and returns the path.

    An interrupted save leaves the previous file (or nothing) in place, never half a model.

    Raises:
        ModelError: when the path does not end in .keras or Keras cannot save the model.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ModelError(f"a Keras model file must end in .keras; got {path}")
    try:
        # Keras checks the suffix of the file it writes, so the temp file needs it too.
        with fileio.atomic_path(path, suffix=".keras") as tmp:
            model.save(tmp, overwrite=True)
    except Exception as exc:
        raise ModelError(f"cannot save model to {path}: {_first_line(exc)}") from exc
    return path


def functional_graph(model: Any, *, purpose: str) -> Any:
    """The functional graph behind a model (a Sequential keeps one inside).

    Args:
        model: a Keras model.
        purpose: the verb for the error message, e.g. ``"prune"``.

    Raises:
        ModelError: for a subclassed or unbuilt model, which has no graph to walk.
    """
    keras = tfdeps.keras()
    if isinstance(model, keras.Sequential):
        model = getattr(model, "_functional", None) or model
    has_graph = hasattr(model, "operations") and hasattr(model, "_nodes_by_depth")
    if not isinstance(model, keras.Model) or not has_graph:
        raise ModelError(
            f"cannot {purpose} {type(model).__name__} {getattr(model, 'name', '')!r}: only "
            "functional and Sequential Keras models built with an input shape have a graph"
        )
    return model


def plain_copy(model: Any) -> Any:
    """An uncompiled copy with the same weights: no optimizer state, no training leftovers."""
    # Not keras.models.clone_model: it compiles the clone like the original, and a saved
    # compiled model carries the optimizer's slots (3x the weights, none of them sparse).
    copy = type(model).from_config(model.get_config())
    copy.set_weights(model.get_weights())
    return copy


def _read_config(path: Path) -> Any:
    """Checks the file is a complete .keras archive and returns its config.json."""
    if not path.exists():
        raise ModelError(f"model file {path} does not exist; give the path of a .keras file")
    if path.is_dir():
        raise ModelError(
            f"model path {path} is a folder; give a .keras file (SavedModel folders are not "
            "supported)"
        )
    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5"):
        raise ModelError(
            f"model file {path} is a legacy HDF5 model; load it in Keras and save it as .keras"
        )
    if suffix != ".keras":
        raise ModelError(
            f"model file {path} is not a .keras file (suffix {suffix or 'none'}); give a "
            ".keras file"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
            text = archive.read("config.json") if "config.json" in archive.namelist() else None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ModelError(
            f"model file {path} is not a complete .keras archive (truncated or not a zip: "
            f"{_first_line(exc)})"
        ) from exc
    if broken is not None:
        raise ModelError(f"model file {path} is corrupt ({broken} fails its checksum)")
    if text is None:
        raise ModelError(f"model file {path} is not a Keras 3 model (no config.json inside)")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ModelError(f"model file {path} has an unreadable config.json ({exc})") from exc


def _find_lambda(config: Any) -> str | None:
    """Name of the first Lambda layer (or serialized Python lambda) in a config, if any."""
    if isinstance(config, dict):
        if config.get("class_name") in ("Lambda", "__lambda__"):
            inner = config.get("config")
            return str(inner.get("name", "unnamed")) if isinstance(inner, dict) else "unnamed"
        children: Any = config.values()
    elif isinstance(config, list):
        children = config
    else:
        return None
    for child in children:
        found = _find_lambda(child)
        if found is not None:
            return found
    return None


def _load_failure(path: Path, exc: Exception) -> str:
    text = str(exc)
    unknown = re.search(r"Could not (?:locate|deserialize) \w+ '([^']+)'", text)
    if unknown:
        return (
            f"model file {path} uses a custom object Keras does not know ({unknown.group(1)}); "
            "only built-in Keras layers can be loaded — rebuild it with built-in layers"
        )
    if "Lambda" in text or "safe_mode" in text:
        return (
            f"model file {path} needs unsafe deserialization (Python code in the file); "
            "edgecnn refuses to run it — rebuild the model with built-in layers"
        )
    return f"cannot load model file {path}: {_first_line(exc)}"


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else type(exc).__name__
