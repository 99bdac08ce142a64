"""Old import paths that the README once showed, kept for one release with a warning."""

from __future__ import annotations

import importlib
import sys
import warnings


def redirect(old: str, new: str) -> None:
    """Makes module ``old`` the module ``new``, warning the importer that the path moved.

    Called at the top level of the old module: the import machinery hands out whatever
    ``sys.modules[old]`` holds when that module finishes, so every name of ``new`` is there.
    """
    warnings.warn(
        f"{old} moved to {new}; import it from there (the old path goes in the next release)",
        DeprecationWarning,
        stacklevel=3,  # the importer's line (import machinery frames are skipped)
    )
    sys.modules[old] = importlib.import_module(new)
