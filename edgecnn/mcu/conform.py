"""Checks a model's firmware on the emulated Cortex-M4 against the host, value by value.

For each recorded raw input the firmware (``edgecnn export firmware``, built against the
real TFLite Micro + CMSIS-NN) prints the int8 input it computed and the raw int8 scores;
they are compared with the host's preprocessing and quantization, with tflite-micro's
Python interpreter and with LiteRT on the same input tensor. The arena the firmware used
and the ELF's sections are set beside what ``edgecnn estimate`` reported.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecnn.core.errors import BadInputError
from edgecnn.core.manifest import load_manifest
from edgecnn.device.interpreter import TFLiteModel
from edgecnn.export.firmware import export_firmware
from edgecnn.mcu.build import build_exported
from edgecnn.mcu.emulator import run_firmware
from edgecnn.mcu.tflmlib import TflmLibrary
from edgecnn.mcu.toolchain import ArmToolchain
from edgecnn.targets.estimate import estimate


@dataclass(frozen=True)
class Difference:
    """How two int8 tensors (over all requests) differ."""

    differing: int
    total: int
    max_lsb: int

    def __str__(self) -> str:
        lsb = f" (max {self.max_lsb} LSB)" if self.differing else ""
        return f"{self.differing}/{self.total}{lsb}"


def difference(a: list[np.ndarray], b: list[np.ndarray]) -> Difference:
    """Values that differ between two lists of int8 arrays, and by how much at most."""
    x = np.concatenate([np.ravel(v) for v in a]).astype(np.int16)
    y = np.concatenate([np.ravel(v) for v in b]).astype(np.int16)
    gap = np.abs(x - y)
    return Difference(int(np.count_nonzero(gap)), int(gap.size), int(gap.max(initial=0)))


@dataclass(frozen=True)
class Conformance:
    """One model's firmware against the host.

    Attributes:
        input_vs_host: the firmware's int8 input vs the host runtime's.
        output_vs_tflm: raw scores vs tflite-micro's Python interpreter on the same input.
        output_vs_litert: raw scores vs LiteRT (default kernels) on the same input.
        top1_same: requests whose top class matches tflite-micro's.
        flash_bytes: the ELF's text + data.
        flash_tflm_model_bytes: the part of it that is TFLite Micro, CMSIS-NN and the model
            (what the estimate's flash figure counts; the rest is startup, C library and I/O).
        instructions: executed instructions per invoke (median over requests).
        op_instructions: per op (tag, instructions) of the first request.
    """

    name: str
    requests: int
    input_vs_host: Difference
    output_vs_tflm: Difference
    output_vs_litert: Difference
    top1_same: int
    arena_used_bytes: int
    arena_allocated_bytes: int
    arena_estimate_bytes: int
    flash_bytes: int
    flash_tflm_model_bytes: int
    flash_estimate_bytes: int
    ram_bytes: int
    instructions: int
    op_instructions: tuple[tuple[str, int], ...]
    build_seconds: float
    run_seconds: float

    @property
    def ok(self) -> bool:
        """Inputs within 1 step of the host's (the C++ front end is float, as numpy's, but
        rounds differently), outputs identical to TFLite Micro's, the same top-1, and the
        arena sufficed."""
        return (
            self.input_vs_host.max_lsb <= 1
            and self.output_vs_tflm.differing == 0
            and self.top1_same == self.requests
            and 0 < self.arena_used_bytes <= self.arena_allocated_bytes
        )


def check_model(
    model_path: str | os.PathLike,
    raw_inputs: list[np.ndarray],
    *,
    board: str,
    work: str | os.PathLike,
    library: TflmLibrary,
    toolchain: ArmToolchain,
) -> Conformance:
    """Exports, builds and runs the firmware of one int8 model; compares with the host."""
    path = Path(model_path)
    export = export_firmware(path, board=board, out=work, overwrite=True)
    image = build_exported(export, library=library, tools=toolchain)
    run = run_firmware(image.elf, [request_line(raw) for raw in raw_inputs])
    host = host_inputs(path, raw_inputs)
    got_inputs = [i.input for i in run.inferences]
    tflm = tflm_outputs(path.read_bytes(), got_inputs)
    litert = litert_outputs(path, got_inputs)
    scores = [i.scores for i in run.inferences]
    board_estimate = estimate(path, boards=[board])[0]
    return Conformance(
        name=path.stem,
        requests=len(raw_inputs),
        input_vs_host=difference(got_inputs, host),
        output_vs_tflm=difference(scores, tflm),
        output_vs_litert=difference(scores, litert),
        top1_same=sum(int(np.argmax(s) == np.argmax(t)) for s, t in zip(scores, tflm, strict=True)),
        arena_used_bytes=run.arena_used_bytes,
        arena_allocated_bytes=run.arena_bytes,
        arena_estimate_bytes=board_estimate.arena_bytes or 0,
        flash_bytes=image.flash_bytes,
        flash_tflm_model_bytes=image.tflm_bytes + image.model_bytes,
        flash_estimate_bytes=board_estimate.flash_bytes or 0,
        ram_bytes=image.ram_bytes,
        instructions=run.median_instructions(),
        op_instructions=run.op_instructions(),
        build_seconds=image.build_seconds,
        run_seconds=run.seconds,
    )


def request_line(raw: np.ndarray) -> str:
    """One request: the raw values, comma-separated, in C order.

    Integers print as integers; floats as the shortest text that reads back (``strtof``)
    as the same float32.
    """
    flat = np.ravel(raw)
    if np.issubdtype(flat.dtype, np.integer):
        return ",".join(str(int(v)) for v in flat)
    return ",".join(np.format_float_positional(v, unique=True) for v in flat.astype(np.float32))


def host_inputs(path: Path, raw_inputs: list[np.ndarray]) -> list[np.ndarray]:
    """The int8 input tensors the host runtime makes of the raw inputs."""
    pre = load_manifest(path).preprocessing
    if pre is None:
        raise BadInputError(f"{path.name}'s manifest has no preprocessing to replay the inputs")
    model = TFLiteModel(path)
    return [model.quantize_input(pre.apply(raw)[np.newaxis])[0] for raw in raw_inputs]


def tflm_outputs(tflite: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """tflite-micro's Python interpreter (x86 reference kernels) on each int8 input."""
    from tflite_micro.python.tflite_micro import runtime

    interpreter = runtime.Interpreter.from_bytes(tflite)
    outputs = []
    for x in inputs:
        shape = interpreter.get_input_details(0)["shape"]
        interpreter.set_input(x.reshape(shape), 0)
        interpreter.invoke()
        outputs.append(np.array(interpreter.get_output(0)).ravel())
    return outputs


def litert_outputs(path: Path, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """LiteRT (its default CPU kernels) on each int8 input."""
    model = TFLiteModel(path)
    shape = model.interpreter.get_input_details()[0]["shape"]
    return [model.invoke_raw(x.reshape(shape)).ravel() for x in inputs]

