"""Deprecated: moved to ``edgecnn.training.trainconfig`` (this path is kept for one release)."""

from edgecnn._moved import redirect

redirect(__name__, "edgecnn.training.trainconfig")
