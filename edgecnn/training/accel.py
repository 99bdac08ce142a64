"""Which devices training runs on: every visible GPU, else the CPU."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from edgecnn.training import tfdeps


@dataclass(frozen=True)
class Devices:
    """The accelerators found and how training uses them."""

    gpus: tuple[str, ...]
    strategy: str

    def describe(self) -> str:
        """One line for the log."""
        if not self.gpus:
            return "training on the CPU (no GPU visible)"
        return f"training on {len(self.gpus)} GPU(s) {', '.join(self.gpus)} with {self.strategy}"


def find_devices() -> Devices:
    """Lists visible GPUs; MirroredStrategy when there is more than one."""
    tf = tfdeps.tensorflow()
    gpus = tuple(d.name for d in tf.config.list_physical_devices("GPU"))
    strategy = "MirroredStrategy" if len(gpus) > 1 else ("one device" if gpus else "CPU")
    return Devices(gpus=gpus, strategy=strategy)


def strategy_scope(devices: Devices) -> contextlib.AbstractContextManager:
    """A scope that builds and compiles the model for all GPUs when there are several."""
    if len(devices.gpus) > 1:
        return tfdeps.tensorflow().distribute.MirroredStrategy().scope()
    return contextlib.nullcontext()


def set_mixed_precision(enabled: bool) -> None:
    """Switches Keras' global dtype policy (float16 compute on GPUs that benefit)."""
    tfdeps.keras().mixed_precision.set_global_policy("mixed_float16" if enabled else "float32")
