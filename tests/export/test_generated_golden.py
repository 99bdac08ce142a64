"""The generated sketch and firmware sources, byte for byte, against stored golden copies.

Each case exports one fixture model (tests/fixtures) and compares every file written with
its golden copy: tests/fixtures/generated/cases/<case>.json names, for each file, its blob in
generated/blobs/ (one copy per distinct content, so the files the cases share are stored
once). The copies were taken from the generator before its
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
import json
import os
from pathlib import Path

import pytest

from edgecnn.export.arduino import export_arduino, sketch_spec
from edgecnn.export.arduino_boards import OTHER_BOARD
from edgecnn.export.firmware import export_firmware
from edgecnn.export.sketch import render_files
from edgecnn.export.sketchfit import mcu_board
from tests.testkit import FIXTURES

GOLDEN = FIXTURES / "generated"
CASES_DIR, BLOBS = GOLDEN / "cases", GOLDEN / "blobs"  # case -> {file: blob}; one copy each
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


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob_name(name: str, data: bytes) -> str:
    """Where a golden file lives: one copy per distinct content, named by hash and file."""
    return f"{digest(data)[:16]}-{Path(name).name}"


def stored_form(files: dict[str, bytes]) -> dict[str, str]:
    """A case's index: file name -> its blob, or ``sha256:HEX`` for the HASHED ones."""
    return {
        name: f"sha256:{digest(data)}" if Path(name).name in HASHED else blob_name(name, data)
        for name, data in files.items()
    }


def store(case: str, files: dict[str, bytes]) -> None:
    """Replaces the index of ``case`` and adds the blobs it names."""
    BLOBS.mkdir(parents=True, exist_ok=True)
    index = stored_form(files)
    for name, data in files.items():
        if not index[name].startswith("sha256:"):
            (BLOBS / index[name]).write_bytes(data)
    CASES_DIR.mkdir(parents=True, exist_ok=True)
    (CASES_DIR / f"{case}.json").write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")


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
    files = generate(case, tmp_path)
    if REGENERATE:
        store(case, files)
    index = json.loads((CASES_DIR / f"{case}.json").read_text())
    assert sorted(files) == sorted(index)
    for name, data in files.items():
        if index[name].startswith("sha256:"):
            assert index[name] == f"sha256:{digest(data)}", f"{name} differs"
            continue
        want = (BLOBS / index[name]).read_bytes()
        assert data == want, first_difference(name, want, data)


def test_every_golden_blob_belongs_to_a_case():
    named = {blob for case in CASES for blob in
             json.loads((CASES_DIR / f"{case}.json").read_text()).values()}  # fmt: skip
    stale = sorted(p.name for p in BLOBS.iterdir() if p.name not in named)
    assert not stale, f"remove these golden blobs no case names: {stale}"
