"""Builds an exported firmware against the cached TFLite Micro library and sizes it.

The folder is what :func:`edgecnn.export.firmware.export_firmware` wrote; its Makefile
compiles it with the library's flags and links it for QEMU's ``mps2-an386``. A firmware
that does not fit the board's flash or RAM fails here, the overflow named.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from edgecnn.core.errors import BadInputError, RunFailedError
from edgecnn.core.records import Record
from edgecnn.export.firmware import FirmwareExport, export_firmware
from edgecnn.mcu.tflmlib import TflmLibrary, build_library
from edgecnn.mcu.toolchain import ArmToolchain, find_toolchain

RAM_ORIGIN = 0x20000000  # mps2-an386: code and constants below, data, bss and stack above
BUILD_TIMEOUT_S = 600


@dataclass(frozen=True)
class FirmwareImage(Record):
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
        """The fields and the flash and RAM they add up to."""
        return super().to_dict() | {"flash_bytes": self.flash_bytes, "ram_bytes": self.ram_bytes}


@dataclass(frozen=True)
class FirmwareResult:
    """What ``edgecnn export firmware`` made: the sources, and the image when built."""

    export: FirmwareExport
    image: FirmwareImage | None = None

    def to_dict(self) -> dict:
        """The export's dict with the image (or None) under ``image``."""
        return self.export.to_dict() | {"image": self.image and self.image.to_dict()}


def export_and_build(
    model: str | Path,
    *,
    board: str,
    out: str | Path,
    name: str | None = None,
    overwrite: bool = False,
    build: bool = False,
) -> FirmwareResult:
    """Writes the firmware sources of ``model`` for ``board``; with ``build``, links them."""
    export = export_firmware(model, board=board, out=out, name=name, overwrite=overwrite)
    return FirmwareResult(export, build_exported(export) if build else None)


def build_exported(
    export: FirmwareExport,
    *,
    library: TflmLibrary | None = None,
    tools: ArmToolchain | None = None,
) -> FirmwareImage:
    """Builds an exported firmware (the TFLM library first, cached); the linked image.

    Args:
        library: a :class:`TflmLibrary` already at hand, else the cached one (built first
            when missing).
        tools: the :class:`ArmToolchain`, else the installed one.

    A firmware that does not build (too large for the board, for one) is removed with its
    folder: export and build are one step, and nothing half-built is left.
    """
    tools = tools or find_toolchain()
    library = library or build_library(tools)
    try:
        return build_firmware(export.folder, library, tools, board_name=export.board,
                              limits=(export.flash_limit_bytes, export.ram_limit_bytes))
    except BaseException:  # a failed or interrupted build leaves nothing half-built
        shutil.rmtree(export.folder, ignore_errors=True)
        raise


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
