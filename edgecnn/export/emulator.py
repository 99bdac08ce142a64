"""Builds an exported firmware and runs it on QEMU's emulated Cortex-M4 (``mps2-an386``).

The run feeds request lines on the semihosting console and reads back what the firmware
prints: the arena TFLite Micro really used, and per request the int8 input tensor, the raw
int8 scores and every op's ticks. Under ``-icount shift=0`` QEMU executes one instruction
per nanosecond of virtual time, so ticks of the 25 MHz SysTick convert to executed
instructions (40 each), exact and repeatable from run to run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgecnn.core.errors import BadInputError, RunFailedError
from edgecnn.export.tflmlib import TflmLibrary
from edgecnn.export.toolchain import ArmToolchain, find_qemu

RAM_ORIGIN = 0x20000000  # mps2-an386: code and constants below, data, bss and stack above
ICOUNT_SHIFT = 0
INSTRUCTIONS_PER_SECOND = 1e9 / 2**ICOUNT_SHIFT  # virtual time under -icount
BUILD_TIMEOUT_S = 600
RUN_TIMEOUT_S = 600


@dataclass(frozen=True)
class FirmwareImage:
    """A linked firmware and its sections (``arm-none-eabi-size``).

    Attributes:
        elf: the linked firmware.
        text, data, bss: section bytes; flash holds text + data, RAM data + bss.
        build_seconds: the firmware's own build time (the library was built before).
        tflm_bytes: flash taken by TFLite Micro and CMSIS-NN (from the link map).
        model_bytes: flash taken by the model array (from the link map).
    """

    elf: Path
    text: int
    data: int
    bss: int
    build_seconds: float
    tflm_bytes: int = 0
    model_bytes: int = 0

    @property
    def flash_bytes(self) -> int:
        return self.text + self.data

    @property
    def ram_bytes(self) -> int:
        return self.data + self.bss

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return dict(self.__dict__) | {
            "elf": str(self.elf), "flash_bytes": self.flash_bytes, "ram_bytes": self.ram_bytes
        }


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


def build_firmware(
    folder: str | Path,
    library: TflmLibrary,
    toolchain: ArmToolchain,
    *,
    board_name: str = "",
    limits: tuple[int, int] | None = None,
) -> FirmwareImage:
    """Runs the firmware folder's Makefile against ``library``; sizes the ELF.

    Args:
        limits: the linker script's flash and RAM bytes, named in the error when it does
            not fit.

    Raises:
        BadInputError: the firmware does not fit the flash or RAM of the linker script.
        RunFailedError: it did not compile or link for another reason.
    """
    folder = Path(folder)
    start = time.monotonic()
    cmd = ["make", "-s", "-C", str(folder), "-j2", f"TFLM_TREE={library.tree}",
           f"TFLM_LIB={library.archive}"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        _remove_outputs(folder)
        raise RunFailedError(f"the firmware did not build within {BUILD_TIMEOUT_S} s") from None
    if done.returncode != 0:
        _remove_outputs(folder)
        _raise_build_failure(done.stderr, board_name or folder.name, limits)
    elf = folder / "firmware.elf"
    sizes = subprocess.run([toolchain.size, str(elf)], capture_output=True, text=True)
    if sizes.returncode != 0:
        raise RunFailedError(f"{toolchain.size} could not read {elf}: {sizes.stderr.strip()}")
    text, data, bss = (int(v) for v in sizes.stdout.splitlines()[1].split()[:3])
    shares = flash_by_object(folder / "firmware.map")
    return FirmwareImage(
        elf, text, data, bss, round(time.monotonic() - start, 1),
        tflm_bytes=sum(n for obj, n in shares.items() if library.archive.name in obj),
        model_bytes=sum(n for obj, n in shares.items() if "model_data" in obj),
    )


# An input section line of a GNU ld map: " .text.name  0xADDRESS  0xSIZE  object" (the name
# may stand alone on the line before when it is long).
_MAP_SECTION = re.compile(r"^ (\.\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)")
_MAP_NAME_ONLY = re.compile(r"^ (\.\S+)\s*$")
FLASH_SECTIONS = (".text", ".rodata", ".data")  # .ARM.exidx entries merge to a few bytes


def flash_by_object(map_path: Path) -> dict[str, int]:
    """Flash bytes each object file (``lib.a(member.o)`` or ``build/x.o``) takes in the image."""
    text = map_path.read_text(encoding="utf-8", errors="replace")
    memory_map = text.split("Linker script and memory map", 1)[-1]
    sizes: dict[str, int] = {}
    pending = None
    for line in memory_map.splitlines():
        alone = _MAP_NAME_ONLY.match(line)
        if alone:
            pending = alone[1]
            continue
        found = _MAP_SECTION.match(line)
        section, pending = (found[1] or pending) if found else None, None
        if found and section and section.startswith(FLASH_SECTIONS):
            size = int(found[3], 16)
            in_ram = int(found[2], 16) >= RAM_ORIGIN and not section.startswith(".data")
            if size and not in_ram:
                sizes[found[4]] = sizes.get(found[4], 0) + size
    return sizes


def _remove_outputs(folder: Path) -> None:
    """Removes what a failed build left (objects, a partial ELF, the map)."""
    shutil.rmtree(folder / "build", ignore_errors=True)
    for name in ("firmware.elf", "firmware.map"):
        (folder / name).unlink(missing_ok=True)


def _raise_build_failure(stderr: str, where: str, limits: tuple[int, int] | None = None) -> None:
    overflow = re.search(r"region `(\w+)' overflowed by (\d+) bytes", stderr)
    if overflow:
        memory, extra = overflow[1].lower(), int(overflow[2])
        limit = ""
        if limits:
            size = limits[0] if memory == "flash" else limits[1]
            reserved = ", stack and heap included" if memory == "ram" else ""
            limit = f" (limit {size:,} B{reserved})"
        raise BadInputError(
            f"the firmware does not fit {where}: {memory} overflowed by {extra:,} B{limit}; "
            "prune or shrink the model"
        )
    errors = [line for line in stderr.splitlines()
              if "error" in line.lower() or "undefined reference" in line]
    raise RunFailedError(f"the firmware did not build: {(errors or ['no output'])[0].strip()}")


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
