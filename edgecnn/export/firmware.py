"""``edgecnn export firmware``: the Arduino sketch's sources as a bare-metal Cortex-M4F build.

The folder holds every file the sketch export writes (the same generator: the model array,
the exact op resolver, the arena, the preprocessing and quantization helpers, the front end
of an audio model), the ``.ino`` compiled as C++ against a small Arduino shim, ``main()``,
and a Makefile, startup code and linker script for QEMU's ``mps2-an386``, whose memory is
limited to the board's. :mod:`edgecnn.export.emulator` builds and runs it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from string import Template

from edgecnn.core.errors import BadInputError
from edgecnn.core.records import Record
from edgecnn.export import templates_firmware as tf
from edgecnn.export import tflmlib
from edgecnn.export.arduino import mcu_board, sketch_name, sketch_spec
from edgecnn.export.folder import check_destination, install_folder
from edgecnn.export.sketch import SketchSpec, render_files
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


def build_exported(export: FirmwareExport, *, library=None, tools=None):
    """Builds an exported firmware (the TFLM library first, cached); the linked image.

    Args:
        library: a :class:`tflmlib.TflmLibrary` already at hand, else the cached one (built
            first when missing).
        tools: the :class:`toolchain.ArmToolchain`, else the installed one.

    A firmware that does not build (too large for the board, for one) is removed with its
    folder: export and build are one step, and nothing half-built is left.
    """
    from edgecnn.export import toolchain
    from edgecnn.export.emulator import build_firmware

    tools = tools or toolchain.find_toolchain()
    library = library or tflmlib.build_library(tools)
    try:
        return build_firmware(export.folder, library, tools, board_name=export.board,
                              limits=(export.flash_limit_bytes, export.ram_limit_bytes))
    except BaseException:  # a failed or interrupted build leaves nothing half-built
        shutil.rmtree(export.folder, ignore_errors=True)
        raise


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
        "Arduino.h": tf.ARDUINO_SHIM_H,
        spec.target.header: "// Empty: the firmware links TensorFlow Lite Micro itself.\n",
        "platform.h": tf.PLATFORM_H,
        "firmware.h": tf.FIRMWARE_H,
        "firmware.cpp": tf.FIRMWARE_CPP,
        f"platform_{PLATFORM}.c": tf.PLATFORM_MPS2_C,
        f"startup_{PLATFORM}.c": tf.STARTUP_MPS2_C,
        f"{PLATFORM}.ld": tf.LINKER_MPS2.substitute(
            board_name=board.name, flash_bytes=flash, ram_bytes=ram, stack_bytes=STACK_BYTES,
            heap_bytes=HEAP_BYTES
        ),
        "Makefile": _makefile(cxx_sources),
        "README.md": _readme(spec, board, flash, ram),
    }


def _makefile(cxx_sources: list[str]) -> str:
    return tf.MAKEFILE.substitute(
        cpu_flags=" ".join(tflmlib.CPU_FLAGS),
        defines=" ".join(f"'-D{d}'" for d in tflmlib.DEFINES),
        includes=" ".join(f"-I$(TFLM_TREE)/{d}" for d in tflmlib.INCLUDE_DIRS),
        common_flags=" ".join(f for f in tflmlib.COMMON_FLAGS if f not in tflmlib.CPU_FLAGS),
        c_flags=" ".join(tflmlib.C_FLAGS),
        cxx_flags=" ".join(tflmlib.CXX_FLAGS),
        cxx_sources=" ".join(cxx_sources),
    )


README = Template("""\
# $sketch: bare-metal firmware for $board_name

Generated by `edgecnn export firmware` from `$model_file`. The model files, `$sketch.ino`
and `model_io.*` are the Arduino sketch's, byte for byte; `Arduino.h` and `firmware.cpp`
stand in for the Arduino core, and `platform.h` is all a board must provide (character
I/O, a tick counter, exit).

Build for QEMU's mps2-an386 (Cortex-M4 with FPU; memory limited to $board_name's
$flash_kib KiB flash and $ram_kib KiB RAM):

    make TFLM_TREE=/path/to/tflm_tree TFLM_LIB=/path/to/libtflm.a

`TFLM_LIB` must be built from that tree with the Makefile's CPU flags and defines:
`edgecnn export firmware --build` builds one once and caches it under
`~/.cache/edgecnn/tflm/<key>/` (with the tree, when that came as an archive;
`$$EDGECNN_CACHE` moves it).

Run it, one request per input line as for the sketch:

    qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none \\
      -semihosting-config enable=on,target=native -icount shift=0 \\
      -kernel firmware.elf < requests.txt

Each request prints `input=` (the int8 input tensor in hex), `scores=` (the raw int8
outputs), one `op=` line per op with its ticks (25 MHz; under `-icount shift=0` one tick
is 40 executed instructions), then the sketch's `label=... score=... invoke_us=...` line.

For a real board: keep the model and sketch files, write `platform.h`'s functions over a
UART and a timer, and use the board's startup code and linker script instead of
`startup_$platform.c` and `$platform.ld`. Tensor arena: $arena_with_margin B
($arena B measured by TFLite Micro on the host plus margin); the firmware prints what it
really used at start-up.
""")


def _readme(spec: SketchSpec, board: Board, flash: int, ram: int) -> str:
    return README.substitute(
        sketch=spec.sketch,
        board_name=board.name,
        model_file=spec.model_file,
        flash_kib=flash // 1024,
        ram_kib=ram // 1024,
        platform=PLATFORM,
        arena=spec.arena_bytes,
        arena_with_margin=spec.arena_with_margin_bytes,
    )
