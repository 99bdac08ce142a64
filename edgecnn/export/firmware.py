"""``edgecnn export firmware``: the Arduino sketch's sources as a bare-metal Cortex-M4F build.

The folder holds every file the sketch export writes (the same generator: the model array,
the exact op resolver, the arena, the preprocessing and quantization helpers, the front end
of an audio model), the ``.ino`` compiled as C++ against a small Arduino shim, ``main()``,
and a Makefile, startup code and linker script for QEMU's ``mps2-an386``, whose memory is
limited to the board's. :mod:`edgecnn.mcu.build` builds it and
:mod:`edgecnn.mcu.emulator` runs it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from edgecnn.core.errors import BadInputError
from edgecnn.core.records import Record
from edgecnn.export import templates
from edgecnn.export import tflm_flags as flags
from edgecnn.export.arduino import sketch_spec
from edgecnn.export.folder import check_destination, install_folder
from edgecnn.export.sketch import render_files
from edgecnn.export.sketchfit import mcu_board, sketch_name
from edgecnn.export.sketchspec import SketchSpec
from edgecnn.targets.boards import Board, list_boards

PLATFORM = "mps2_an386"
# The emulated machine's memories (QEMU mps2-an386): the firmware's limits are the
# smaller of these and the board's.
EMULATOR_FLASH_BYTES = 4 * 1024 * 1024
EMULATOR_RAM_BYTES = 4 * 1024 * 1024
STACK_BYTES = 16 * 1024
HEAP_BYTES = 4 * 1024  # newlib's strtof may allocate (its big-number helpers)
FIRMWARE_CORES = ("Cortex-M4F",)


@dataclass(frozen=True)
class FirmwareExport(Record):
    """What :func:`export_firmware` wrote.

    Attributes:
        folder: the firmware folder.
        files: the file names inside it.
        board: board id.
        arena_bytes: the tensor arena TFLite Micro measured on the host.
        arena_with_margin_bytes: the arena the firmware allocates.
        model_bytes: the .tflite size.
        flash_limit_bytes: the linker script's flash size.
        ram_limit_bytes: the linker script's RAM size.
    """

    folder: str
    files: tuple[str, ...]
    board: str
    arena_bytes: int
    arena_with_margin_bytes: int
    model_bytes: int
    flash_limit_bytes: int
    ram_limit_bytes: int


def export_firmware(
    model_path: str | os.PathLike,
    *,
    board: str,
    out: str | os.PathLike,
    name: str | None = None,
    overwrite: bool = False,
) -> FirmwareExport:
    """Writes ``out/<name>/``: the sketch's sources plus a bare-metal build for the board.

    Raises:
        BadInputError: as :func:`edgecnn.export.arduino.export_arduino`, and a board whose
            core is not a Cortex-M4F.
    """
    target = firmware_board(board)
    folder_name = sketch_name(name, model_path)
    dest = Path(out) / folder_name
    check_destination(dest, overwrite=overwrite)
    spec = sketch_spec(Path(model_path), folder_name, target)
    files = firmware_files(spec, target)
    install_folder(files, dest, overwrite=overwrite)
    flash, ram = memory_limits(target)
    return FirmwareExport(
        folder=str(dest.resolve()),
        files=tuple(sorted(files)),
        board=target.id,
        arena_bytes=spec.arena_bytes,
        arena_with_margin_bytes=spec.arena_with_margin_bytes,
        model_bytes=len(spec.model),
        flash_limit_bytes=flash,
        ram_limit_bytes=ram,
    )


def firmware_board(board_id: str) -> Board:
    """The board, which must be a microcontroller with a core the firmware is built for."""
    board = mcu_board(board_id)
    if board.core not in FIRMWARE_CORES:
        fits = ", ".join(b.id for b in list_boards() if b.core in FIRMWARE_CORES)
        raise BadInputError(
            f"board {board_id!r} has a {board.core} core; the firmware export builds for "
            f"{', '.join(FIRMWARE_CORES)} boards ({fits}); use edgecnn export arduino for it"
        )
    return board


def memory_limits(board: Board) -> tuple[int, int]:
    """Flash and RAM of the firmware: the board's, within the emulated machine's."""
    flash = min(board.flash_bytes or EMULATOR_FLASH_BYTES, EMULATOR_FLASH_BYTES)
    return flash, min(board.ram_bytes, EMULATOR_RAM_BYTES)


def firmware_files(spec: SketchSpec, board: Board) -> dict[str, str]:
    """File name -> text: the sketch's files (its README replaced) and the firmware's own."""
    files = render_files(spec)
    del files["README.md"]
    flash, ram = memory_limits(board)
    cxx_sources = sorted(n for n in files if n.endswith((".ino", ".cpp"))) + ["firmware.cpp"]
    return files | {
        "Arduino.h": templates.text("firmware/Arduino.h.in"),
        spec.target.header: "// Empty: the firmware links TensorFlow Lite Micro itself.\n",
        "platform.h": templates.text("firmware/platform.h.in"),
        "firmware.h": templates.text("firmware/firmware.h.in"),
        "firmware.cpp": templates.text("firmware/firmware.cpp.in"),
        f"platform_{PLATFORM}.c": templates.text("firmware/platform_mps2_an386.c.in"),
        f"startup_{PLATFORM}.c": templates.text("firmware/startup_mps2_an386.c.in"),
        f"{PLATFORM}.ld": templates.load("firmware/mps2_an386.ld.in").substitute(
            board_name=board.name, flash_bytes=flash, ram_bytes=ram, stack_bytes=STACK_BYTES,
            heap_bytes=HEAP_BYTES
        ),
        "Makefile": _makefile(cxx_sources),
        "README.md": _readme(spec, board, flash, ram),
    }


def _makefile(cxx_sources: list[str]) -> str:
    return templates.load("firmware/Makefile.in").substitute(
        cpu_flags=" ".join(flags.CPU_FLAGS),
        defines=" ".join(f"'-D{d}'" for d in flags.DEFINES),
        includes=" ".join(f"-I$(TFLM_TREE)/{d}" for d in flags.INCLUDE_DIRS),
        common_flags=" ".join(f for f in flags.COMMON_FLAGS if f not in flags.CPU_FLAGS),
        c_flags=" ".join(flags.C_FLAGS),
        cxx_flags=" ".join(flags.CXX_FLAGS),
        cxx_sources=" ".join(cxx_sources),
    )


def _readme(spec: SketchSpec, board: Board, flash: int, ram: int) -> str:
    return templates.load("firmware/README.md.in").substitute(
        sketch=spec.sketch,
        board_name=board.name,
        model_file=spec.model_file,
        flash_kib=flash // 1024,
        ram_kib=ram // 1024,
        platform=PLATFORM,
        arena=spec.arena_bytes,
        arena_with_margin=spec.arena_with_margin_bytes,
    )
