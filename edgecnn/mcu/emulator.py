"""Runs a built firmware on QEMU's emulated Cortex-M4 (``mps2-an386``).

The run feeds request lines on the semihosting console and reads back what the firmware
prints: the arena TFLite Micro really used, and per request the int8 input tensor, the raw
int8 scores and every op's ticks. Under ``-icount shift=0`` QEMU executes one instruction
per nanosecond of virtual time, so ticks of the 25 MHz SysTick convert to executed
instructions (40 each), exact and repeatable from run to run.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgecnn.core.errors import RunFailedError
from edgecnn.mcu.toolchain import find_qemu

ICOUNT_SHIFT = 0
INSTRUCTIONS_PER_SECOND = 1e9 / 2**ICOUNT_SHIFT  # virtual time under -icount
RUN_TIMEOUT_S = 600


@dataclass(frozen=True)
class Inference:
    """What the firmware printed for one request."""

    input: np.ndarray
    scores: np.ndarray
    label: str
    op_ticks: tuple[tuple[str, int], ...]
    invoke_ticks: int = 0
    ops_dropped: int = 0

    @property
    def ticks(self) -> int:
        """The whole invoke (interpreter work between ops included), else the ops' sum."""
        return self.invoke_ticks or sum(t for _, t in self.op_ticks)


@dataclass(frozen=True)
class EmulatorRun:
    """One QEMU run of a firmware over some requests."""

    arena_used_bytes: int
    arena_bytes: int
    ticks_per_second: int
    inferences: tuple[Inference, ...]
    seconds: float
    errors: tuple[str, ...] = field(default=())
    log: tuple[str, ...] = field(default=())  # TFLite Micro's own messages

    def instructions(self, ticks: int) -> int:
        """Executed instructions of ``ticks`` SysTick ticks."""
        return round(ticks * INSTRUCTIONS_PER_SECOND / self.ticks_per_second)

    def median_instructions(self) -> int:
        """Executed instructions per invoke, the median over the requests."""
        return self.instructions(int(np.median([i.ticks for i in self.inferences])))

    def op_instructions(self) -> tuple[tuple[str, int], ...]:
        """(op tag, executed instructions) of the first request's ops, in execution order."""
        return tuple((tag, self.instructions(t)) for tag, t in self.inferences[0].op_ticks)


def run_firmware(elf: str | Path, requests: list[str]) -> EmulatorRun:
    """Runs ``elf`` in QEMU with one request per line; parses what it printed.

    Raises:
        RunFailedError: QEMU failed, timed out, or the firmware said it could not start.
    """
    cmd = [
        find_qemu(), "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "none",
        # Semihosting on the host's own stdin and stdout: routed through a -chardev,
        # QEMU 7.2 gave the firmware no input at all.
        "-semihosting-config", "enable=on,target=native",
        "-icount", f"shift={ICOUNT_SHIFT}", "-kernel", str(elf),
    ]
    start = time.monotonic()
    text = "".join(line + "\n" for line in requests)
    try:
        done = subprocess.run(cmd, input=text, capture_output=True, text=True,
                              timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise RunFailedError(f"the firmware did not finish within {RUN_TIMEOUT_S} s") from None
    run = parse_output(done.stdout, seconds=time.monotonic() - start)
    if done.returncode != 0 or run.errors:
        why = (run.errors or (done.stderr.strip().splitlines() or ["no output"])[-1:])[0]
        said = f" (TFLite Micro: {run.log[-1]})" if run.log else ""
        raise RunFailedError(
            f"the firmware failed in QEMU (exit {done.returncode}): {why}{said}"
        )
    return run


def parse_output(stdout: str, *, seconds: float = 0.0) -> EmulatorRun:
    """The firmware's printed lines as an :class:`EmulatorRun`."""
    values: dict[str, int] = {}
    inferences, errors, log, pending = [], [], [], {}
    ops: list[tuple[str, int]] = []
    for line in stdout.splitlines():
        if line.startswith("ticks_per_second="):
            values["tps"] = int(line.split("=", 1)[1])
        elif line.startswith("ready: arena used "):
            used, size = re.findall(r"\d+", line)[:2]
            values |= {"used": int(used), "size": int(size)}
        elif line.startswith("input="):
            pending = {"input": np.frombuffer(bytes.fromhex(line[6:]), dtype=np.int8)}
            ops = []
        elif line.startswith("invoke_ticks="):
            pending["invoke_ticks"] = int(line.split("=", 1)[1])
        elif line.startswith("ops_dropped="):
            pending["ops_dropped"] = int(line.split("=", 1)[1])
        elif line.startswith("tflm: "):
            log.append(line[6:].strip())
        elif line.startswith("scores="):
            pending["scores"] = np.array([int(v) for v in line[7:].split(",")], dtype=np.int8)
        elif line.startswith("op="):
            found = re.match(r"op=\d+ (\S+) ticks=(\d+)", line)
            ops.append((found[1], int(found[2])))
        elif line.startswith("label=") and "scores" in pending:
            label = line.split()[0][6:]
            inferences.append(Inference(
                pending["input"], pending["scores"], label, tuple(ops),
                invoke_ticks=pending.get("invoke_ticks", 0),
                ops_dropped=pending.get("ops_dropped", 0),
            ))
            pending = {}
        elif line.startswith("error:"):
            errors.append(line[6:].strip())
    return EmulatorRun(
        arena_used_bytes=values.get("used", 0),
        arena_bytes=values.get("size", 0),
        ticks_per_second=values.get("tps", 0),
        inferences=tuple(inferences),
        seconds=round(seconds, 2),
        errors=tuple(errors),
        log=tuple(log),
    )
