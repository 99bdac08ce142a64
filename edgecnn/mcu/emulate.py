"""Counts the instructions one inference executes on the emulated Cortex-M4F.

``edgecnn estimate --emulate`` and ``edgecnn boards calibrate --emulate`` use it: the
model's firmware (:mod:`edgecnn.export.firmware`) runs a few seeded inputs in QEMU and
TFLite Micro's per-op profile events give the instructions of each op. A model without an
edgecnn manifest (a reference graph) gets a neutral one: counting covers ``Invoke()``
only, which preprocessing does not touch.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecnn import __version__
from edgecnn.core.errors import BadInputError
from edgecnn.core.manifest import (
    Manifest,
    VariantInfo,
    manifest_path,
    sha256_of,
    write_manifest,
)
from edgecnn.core.records import Record
from edgecnn.export.firmware import export_firmware, firmware_board
from edgecnn.export.tflite_info import read_tflite
from edgecnn.mcu import tflmlib, toolchain
from edgecnn.mcu.build import build_exported
from edgecnn.mcu.emulator import run_firmware

DEFAULT_BOARD = "nucleo-l4r5zi"
COUNT_REQUESTS = 2


@dataclass(frozen=True)
class InstructionCount(Record):
    """Executed instructions of one inference on the emulated Cortex-M4F (CMSIS-NN).

    Attributes:
        instructions: per invoke (the median over the requests; they agree within a
            SysTick tick, 40 instructions, per op).
        ops: (op tag, instructions) in execution order.
        library_seconds: the TFLM library build (0 when cached).
    """

    model: str
    board: str
    kernels: str
    instructions: int
    ops: tuple[tuple[str, int], ...]
    arena_used_bytes: int
    flash_bytes: int
    ram_bytes: int
    library_seconds: float


def count_instructions(
    model_path: str | os.PathLike, *, board: str = DEFAULT_BOARD, requests: int = COUNT_REQUESTS
) -> InstructionCount:
    """Builds the model's firmware, runs it in QEMU, returns the instructions per invoke.

    Raises:
        BadInputError: a missing toolchain or QEMU (one line each), a model the firmware
            export refuses (float, ops TFLM lacks, too large for the board).
        RunFailedError: the build or the emulated run failed.
    """
    target = firmware_board(board)
    tools = toolchain.find_toolchain(qemu=True)
    library = tflmlib.build_library(tools)
    with tempfile.TemporaryDirectory(prefix="edgecnn-emulate.") as tmp:
        model = _with_manifest(Path(model_path), Path(tmp))
        export = export_firmware(model, board=target.id, out=Path(tmp) / "fw", name="model")
        image = build_exported(export, library=library, tools=tools)
        run = run_firmware(image.elf, _seeded_requests(model, requests))
    return InstructionCount(
        model=str(model_path),
        board=target.id,
        kernels=target.kernels,
        instructions=run.median_instructions(),
        ops=run.op_instructions(),
        arena_used_bytes=run.arena_used_bytes,
        flash_bytes=image.flash_bytes,
        ram_bytes=image.ram_bytes,
        library_seconds=library.build_seconds,
    )


def emulated_for(model_path: str | os.PathLike, boards: list[str]):
    """The model's instruction count as :class:`edgecnn.targets.estimate.Emulated`.

    Raises:
        BadInputError: none of ``boards`` has an emulated core (so counting would change
            nothing), plus what :func:`count_instructions` raises.
    """
    from edgecnn.targets.boards import get_board, list_boards
    from edgecnn.targets.estimate import Emulated

    emulated = [b for b in boards if get_board(b).emulated_by]
    if not emulated:
        covered = ", ".join(b.id for b in list_boards() if b.emulated_by)
        raise BadInputError(
            f"--emulate: none of {', '.join(boards)} has an emulated core; it applies to "
            f"{covered}"
        )
    # The count is the core's: any emulated board gives it; the first one's memory limits
    # the firmware.
    count = count_instructions(model_path, board=emulated[0])
    return Emulated(count.instructions, count.ops)


def estimate_emulated(
    model_path: str | os.PathLike,
    *,
    boards: list[str],
    threads: int | None = None,
    input_shape: tuple[int, ...] | None = None,
):
    """:func:`edgecnn.targets.estimate.estimate` with the model's instructions counted on the
    emulated core (:func:`emulated_for`): ``instructions x CPI`` where a group has a CPI.

    Raises:
        BadInputError: what :func:`emulated_for` and the estimate raise.
    """
    from edgecnn.targets.estimate import estimate

    emulated = emulated_for(model_path, list(boards))
    return estimate(
        model_path, boards=list(boards), threads=threads, input_shape=input_shape,
        emulated=emulated,
    )  # fmt: skip


def _with_manifest(model: Path, tmp: Path) -> Path:
    """``model`` when it has a manifest, else a copy in ``tmp`` with a neutral one."""
    if manifest_path(model).is_file():
        return model
    copy = tmp / "model.tflite"
    try:
        shutil.copyfile(model, copy)
    except OSError as exc:
        raise BadInputError(f"cannot read model {model}: {exc.strerror}") from None
    info = read_tflite(copy.read_bytes(), name=str(model))
    classes = math.prod(info.output.shape[1:])
    write_manifest(copy, Manifest(
        labels=[str(k) for k in range(classes)],
        input=info.input.to_dict(),
        output=info.output.to_dict(),
        preprocessing=None,
        variant=VariantInfo(),
        source_model=str(model),
        metrics={},
        sha256=sha256_of(copy),
        size_bytes=copy.stat().st_size,
        versions={"edgecnn": __version__},
    ))
    return copy


def _seeded_requests(model: Path, count: int) -> list[str]:
    """``count`` request lines of seeded values: PCM noise for audio models, else 0..1."""
    from edgecnn.core.manifest import load_manifest
    from edgecnn.mcu.conform import request_line

    prep = load_manifest(model).preprocessing
    rng = np.random.default_rng(0)
    if prep is not None and prep.audio is not None:
        samples = prep.audio.clip_samples
        return [request_line(rng.integers(-3000, 3000, samples, dtype=np.int16))
                for _ in range(count)]
    size = math.prod(read_tflite(model.read_bytes(), name=str(model)).input.shape[1:])
    return [request_line(rng.random(size, dtype=np.float32)) for _ in range(count)]
