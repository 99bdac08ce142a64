"""Which devices training runs on: every visible GPU, else the CPU, and why no GPU was used.

TensorFlow says why it skipped a GPU (a CUDA or cuDNN library that failed to load, a driver
too old) only in the start-up chatter ``tfdeps`` captures. When no GPU is visible, the lines
about CUDA and GPUs are shown, except those every machine without an NVIDIA GPU prints (no
CUDA driver, cuInit failing): a plain CPU machine starts quietly, a broken GPU set-up says
what broke.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from pathlib import Path

from edgecnn.training import tfdeps

# The device type training spreads over; the MirroredStrategy test sets "CPU" to have two
# logical CPU devices play the GPUs.
ACCELERATOR = "GPU"

_ABOUT_GPUS = re.compile(
    r"cuda|cudnn|cublas|cufft|curand|cusolver|cusparse|nccl|gpu|dlopen|dynamic librar|driver",
    re.IGNORECASE,
)
# What TensorFlow prints on any machine without an NVIDIA driver or device: not a problem.
_NO_CUDA_HERE = re.compile(
    r"could not find cuda drivers|unknown error \(303\)|cuda_error_no_device|"
    r"no cuda-capable device",
    re.IGNORECASE,
)
_LOG_PREFIX = re.compile(r"^[IWEF]\d{4} [\d:.]+\s+\d+ [\w.-]+:\d+\] ")
_MAX_LINES = 8


@dataclass(frozen=True)
class Devices:
    """The accelerators found, how training uses them, and why none was used (if so)."""

    gpus: tuple[str, ...]
    strategy: str
    problems: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for the log and the run report."""
        if not self.gpus:
            return "training on the CPU (no GPU visible)"
        kind = "GPU(s)" if ACCELERATOR == "GPU" else f"{ACCELERATOR} device(s)"
        return f"training on {len(self.gpus)} {kind} {', '.join(self.gpus)} with {self.strategy}"

    def log_lines(self) -> tuple[str, ...]:
        """:meth:`describe`, then what TensorFlow reported about the missing GPU."""
        if not self.problems:
            return (self.describe(),)
        head = "training on the CPU (no GPU visible; TensorFlow reported why:)"
        return (head, *(f"  {line}" for line in self.problems))


def find_devices() -> Devices:
    """Lists visible GPUs; MirroredStrategy when there is more than one."""
    tf = tfdeps.tensorflow()
    gpus = tuple(d.name for d in tf.config.list_logical_devices(ACCELERATOR))
    strategy = "MirroredStrategy" if len(gpus) > 1 else ("one device" if gpus else "CPU")
    problems = () if gpus else gpu_problems(tfdeps.startup_log(), nvidia_present=nvidia_present())
    return Devices(gpus=gpus, strategy=strategy, problems=problems)


def gpu_problems(text: str, *, nvidia_present: bool) -> tuple[str, ...]:
    """The lines of TensorFlow's start-up output that say why it found no GPU.

    Args:
        text: what TensorFlow printed while importing and listing devices.
        nvidia_present: the machine has an NVIDIA GPU or driver; then even "no CUDA driver"
            is a problem worth showing, and silence gets a hint.
    """
    found: dict[str, None] = {}
    for raw in text.splitlines():
        line = _LOG_PREFIX.sub("", raw.strip())
        if not _ABOUT_GPUS.search(line) or "tensorrt" in line.lower():
            continue
        if nvidia_present or not _NO_CUDA_HERE.search(line):
            found[line] = None
    if nvidia_present and not found:
        return (
            "an NVIDIA GPU is present but TensorFlow listed none and said nothing at this log "
            "level; run with TF_CPP_MIN_LOG_LEVEL=0 to see its reasons",
        )
    return tuple(found)[:_MAX_LINES]


def nvidia_present() -> bool:
    """True when the NVIDIA kernel driver is loaded or an NVIDIA device node exists."""
    return Path("/proc/driver/nvidia/version").exists() or any(Path("/dev").glob("nvidia[0-9]*"))


def strategy_scope(devices: Devices) -> contextlib.AbstractContextManager:
    """A scope that builds and compiles the model for all devices when there are several."""
    if len(devices.gpus) > 1:
        return tfdeps.tensorflow().distribute.MirroredStrategy(devices=list(devices.gpus)).scope()
    return contextlib.nullcontext()


def set_mixed_precision(enabled: bool) -> None:
    """Switches Keras' global dtype policy (float16 compute on GPUs that benefit)."""
    tfdeps.keras().mixed_precision.set_global_policy("mixed_float16" if enabled else "float32")
