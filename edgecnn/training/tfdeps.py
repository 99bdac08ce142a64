"""TensorFlow and Keras imports for host tooling, with their start-up chatter muted.

Host side only: the device side (``edgecnn.device``, the device parts of ``edgecnn.targets``)
and ``edgecnn.core`` never import this module.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

from edgecnn.core.nativeio import quiet_native_stderr
from edgecnn.core.optional import require


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
