"""The manifest's preprocessing is checked once, where it is read: a damaged one is refused in
one line by export arduino, export firmware and run alike, before any file is written."""

import json
import shutil

import pytest
from click.testing import CliRunner

from edgecnn.cli import cli
from tests.testkit import FIXTURES

STEM = "digits-lenet5-int8"

# A damaged preprocessing -> what the refusal says. Before the typed bundle, export arduino
# wrote a sketch for each of these: dividing by a zero std, inputs 16x off, or a traceback.
DAMAGE = {
    "zero std": ({"std": [0.0]}, "preprocessing std must be null or a list of finite numbers"),
    "no preprocessing": (None, "preprocessing must be a JSON object, got None"),
    "text scale": ({"scale": "big"}, "preprocessing scale must be a finite number; got 'big'"),
    "NaN mean": ({"mean": [float("nan")]}, "preprocessing mean must be null or a list of"),
}


def damaged_bundle(folder, change):
    """A copy of the digits bundle whose manifest's preprocessing is changed (None: null)."""
    folder.mkdir()
    model = shutil.copy(FIXTURES / f"{STEM}.tflite", folder)
    manifest = json.loads((FIXTURES / f"{STEM}.json").read_text())
    if change is None:
        manifest["preprocessing"] = None
    else:
        manifest["preprocessing"] |= change
    (folder / f"{STEM}.json").write_text(json.dumps(manifest))  # NaN written as JSON's NaN
    return model


@pytest.mark.parametrize("case", sorted(DAMAGE))
@pytest.mark.parametrize(
    "verb",
    [
        ["export", "arduino", "{model}", "--board", "arduino-nano-33-ble-sense", "--out", "{out}"],
        ["export", "firmware", "{model}", "--board", "nucleo-l4r5zi", "--out", "{out}"],
        ["run", "{model}", "--source", "stdin"],
    ],
    ids=["export-arduino", "export-firmware", "run"],
)
def test_a_damaged_preprocessing_is_refused_in_one_line(tmp_path, case, verb):
    change, message = DAMAGE[case]
    model = damaged_bundle(tmp_path / "bundle", change)
    out = tmp_path / "out"
    args = [a.format(model=model, out=out) for a in verb]
    result = CliRunner().invoke(cli, args, input="")
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines
    assert f"{STEM}.json" in lines[0]  # the file to look at is named
    assert not out.exists()  # nothing half-written
