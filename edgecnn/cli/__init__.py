"""The ``edgecnn`` command: parse, call one library function, print.

Library modules are imported inside each command so that ``edgecnn --help`` stays fast and
never imports TensorFlow. Each submodule registers its verbs on the group in ``base``.
"""

from edgecnn.cli import (  # noqa: F401 - importing them registers their verbs
    data,
    device,
    doctor,
    export,
    optimize,
    pipeline,
    targets,
    training,
)
from edgecnn.cli.base import cli, main

__all__ = ["cli", "main"]
