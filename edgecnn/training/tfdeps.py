"""TensorFlow and Keras imports for host tooling, with their start-up chatter kept aside.

What TensorFlow's native code prints while it imports and looks for devices (absl lines,
CUDA probing) is captured rather than shown: it buries the one line a user needs, yet it is
the only account of why a GPU was not used, so ``accel`` shows the relevant part of it when
no GPU is visible (:func:`startup_log`).

Host side only: the device side (``edgecnn.device``, the device parts of ``edgecnn.targets``)
and ``edgecnn.core`` never import this module.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

from edgecnn.core.nativeio import capture_fd
from edgecnn.core.optional import require

_startup = {"log": ""}  # what TensorFlow printed to stderr while it imported


def keras() -> ModuleType:
    """Imports Keras 3 on the TensorFlow backend, with TensorFlow's start-up chatter kept aside."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    tensorflow()
    return require("keras", extra="train")


def tensorflow() -> ModuleType:
    """Imports TensorFlow, capturing its start-up chatter (see :func:`startup_log`)."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        os.fstat(2)
    except OSError:  # no real fd 2 (e.g. some embedded interpreters): nothing to capture
        return _import()
    with capture_fd(2) as captured:
        tf = _import()
    _startup["log"] = captured.text
    return tf


def _import() -> ModuleType:
    tf = require("tensorflow", extra="train")
    # Device discovery runs once, here: what it prints (a CUDA failure) is captured with it.
    tf.config.list_physical_devices()
    return tf


def startup_log() -> str:
    """What TensorFlow's native code printed while importing and listing devices ("" when
    TensorFlow was imported before this module could capture it)."""
    return _startup["log"]
