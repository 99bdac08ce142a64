"""Lazy imports of optional heavy packages with one clear error naming the extra."""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterator
from importlib import metadata
from types import ModuleType

from edgecnn.errors import MissingDependencyError


def require(module: str, *, extra: str, package: str | None = None) -> ModuleType:
    """Imports an optional module or raises a MissingDependencyError naming the extra.

    Args:
        module: the module to import, e.g. ``"sklearn.model_selection"``.
        extra: the edgecnn extra that installs it, e.g. ``"train"``.
        package: the PyPI name, when it differs from the module's top-level name.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        name = package or module.split(".")[0]
        raise MissingDependencyError(
            f'{name} is not installed (needed here); install it with pip install "edgecnn[{extra}]"'
        ) from exc


def version_of(package: str) -> str | None:
    """The installed version of a PyPI distribution, or None when it is not installed."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


TOOLCHAIN = ("tensorflow", "keras", "ai-edge-litert", "tflite-micro")


def toolchain_versions() -> dict[str, str | None]:
    """edgecnn's, Python's and the converter/interpreter packages' versions (provenance)."""
    import platform

    from edgecnn import __version__

    versions = {"edgecnn": __version__, "python": platform.python_version()}
    return versions | {package: version_of(package) for package in TOOLCHAIN}


def keras() -> ModuleType:
    """Imports Keras 3 on the TensorFlow backend, with TensorFlow's start-up chatter muted."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    tensorflow()
    return require("keras", extra="train")


def tensorflow() -> ModuleType:
    """Imports TensorFlow, muting its start-up chatter."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with quiet_native_stderr():
        tf = require("tensorflow", extra="train")
        # Device discovery runs once; on a machine without a GPU it logs a CUDA failure.
        tf.config.list_physical_devices()
        return tf


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silences what native code writes to fd 2 (TensorFlow's absl lines before log init).

    TF_CPP_MIN_LOG_LEVEL cannot mute those, and they bury the one line a user needs.
    Python exceptions are unaffected: they are raised after stderr is restored.
    """
    try:
        saved = os.dup(2)
    except OSError:  # no real fd 2 (e.g. some embedded interpreters): nothing to mute
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            sys.stderr.flush()
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
