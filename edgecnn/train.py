"""Deprecated: moved to ``edgecnn.training.train`` (this path is kept for one release)."""

from edgecnn._moved import redirect

redirect(__name__, "edgecnn.training.train")
