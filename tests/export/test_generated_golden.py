"""The generated sketch and firmware sources, byte for byte, against stored golden copies.

Each case exports one fixture model (tests/fixtures) and compares every file written with
tests/fixtures/generated/<case>/. The copies were taken from the generator before its
templates moved out of Python strings into files, so a template edit that changes a single
byte shows here. Nothing in the output varies between runs (no dates, no absolute paths; the
edgecnn version in the sketch README is the package's own), so nothing is normalised.

After an intended change to the generated code, regenerate the copies and review the diff:

    EDGECNN_REGEN_GOLDEN=1 python -m pytest tests/export/test_generated_golden.py
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import os
import shutil
from pathlib import Path

import pytest

from edgecnn.export.arduino import export_arduino, sketch_spec
from edgecnn.export.arduino_boards import OTHER_BOARD
from edgecnn.export.firmware import export_firmware
from edgecnn.export.sketch import render_files
from edgecnn.export.sketchfit import mcu_board
from tests.testkit import FIXTURES

GOLDEN = FIXTURES / "generated"
REGENERATE = os.environ.get("EDGECNN_REGEN_GOLDEN") == "1"
NANO, NUCLEO = "arduino-nano-33-ble-sense", "nucleo-l4r5zi"
# The model's bytes as a C array (~250 KB a case, written by carray, not by a template) are
# stored as their sha256: the copies stay small and a changed byte still fails.
HASHED = {"model_data.cpp"}

# case -> (export kind, fixture model stem, board). The boards vary the README's branches:
# a target note (esp32-s3, rpi-pico), none (Nano), an unknown board (no FQBN, no flash).
CASES = {
    "arduino-digits-nano": ("arduino", "digits-lenet5-int8", NANO),
    "arduino-imu-nano": ("arduino", "imu-cnn1d-int8", NANO),
    "arduino-kws-nano": ("arduino", "kws-dscnn-int8", NANO),
    "arduino-digits-esp32s3": ("arduino", "digits-lenet5-int8", "esp32-s3"),
    "arduino-imu-pico": ("arduino", "imu-cnn1d-int8", "rpi-pico"),
    "arduino-digits-otherboard": ("other-board", "digits-lenet5-int8", NANO),
    "firmware-digits-nucleo": ("firmware", "digits-lenet5-int8", NUCLEO),
    "firmware-imu-nucleo": ("firmware", "imu-cnn1d-int8", NUCLEO),
    "firmware-kws-nucleo": ("firmware", "kws-dscnn-int8", NUCLEO),
    "firmware-digits-nano": ("firmware", "digits-lenet5-int8", NANO),
}


def generate(case: str, tmp: Path) -> dict[str, bytes]:
    """File name -> bytes of what the exporter writes for ``case``."""
    kind, stem, board = CASES[case]
    model = FIXTURES / f"{stem}.tflite"
    if kind == "other-board":  # a board edgecnn has no Arduino recipe and no flash size for
        spec = sketch_spec(model, stem, mcu_board(board))
        spec = dataclasses.replace(spec, target=OTHER_BOARD, flash_bytes=None)
        return {name: text.encode("utf-8") for name, text in render_files(spec).items()}
    if kind == "arduino":
        folder = Path(export_arduino(model, board=board, out=tmp).sketch_dir)
    else:
        folder = Path(export_firmware(model, board=board, out=tmp).folder)
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def stored_form(files: dict[str, bytes]) -> dict[str, bytes]:
    """``files`` as the golden folder keeps them: the HASHED ones as ``NAME.sha256``."""
    return {
        (f"{name}.sha256" if Path(name).name in HASHED else name): (
            hashlib.sha256(data).hexdigest().encode() + b"\n"
            if Path(name).name in HASHED else data
        )
        for name, data in files.items()
    }


def store(case: str, files: dict[str, bytes]) -> None:
    """Replaces the golden copies of ``case`` with ``files``."""
    shutil.rmtree(GOLDEN / case, ignore_errors=True)
    for name, data in files.items():
        path = GOLDEN / case / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def first_difference(name: str, want: bytes, got: bytes) -> str:
    """A short unified diff of one file, for the failure message."""
    diff = difflib.unified_diff(
        want.decode("utf-8", "replace").splitlines(),
        got.decode("utf-8", "replace").splitlines(),
        f"golden/{name}", f"generated/{name}", lineterm="", n=1,
    )
    return "\n".join(list(diff)[:30])


@pytest.mark.parametrize("case", sorted(CASES))
def test_generated_files_equal_the_golden_copies(case, tmp_path):
    files = stored_form(generate(case, tmp_path))
    if REGENERATE:
        store(case, files)
    folder = GOLDEN / case
    golden = {p.relative_to(folder).as_posix(): p.read_bytes()
              for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip
    assert sorted(files) == sorted(golden)
    for name, data in files.items():
        assert data == golden[name], first_difference(name, golden[name], data)
