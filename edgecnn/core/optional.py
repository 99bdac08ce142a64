"""Optional packages: import one with a clear error naming the extra, and read versions.

The TensorFlow and Keras import helpers live on the host side (``edgecnn.training.tfdeps``):
nothing in core imports TensorFlow, not even lazily.
"""

from __future__ import annotations

import importlib
from importlib import metadata
from types import ModuleType

from edgecnn.core.errors import MissingDependencyError


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
