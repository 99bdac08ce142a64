"""Deprecated: moved to ``edgecnn.core.preprocess`` (this path is kept for one release)."""

from edgecnn._moved import redirect

redirect(__name__, "edgecnn.core.preprocess")
