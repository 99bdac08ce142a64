"""The device side must run where TensorFlow is not installed (a Raspberry Pi)."""

import json
import subprocess
import sys
from pathlib import Path

from tests.testkit import FIXTURES, REPO

BLOCK_AND_RUN = """
import importlib.abc, json, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "keras", "tf_keras", "tflite_micro"):
            raise ImportError("blocked: " + name)

sys.meta_path.insert(0, Block())
from click.testing import CliRunner
from edgecnn.cli import cli
import edgecnn.device.interpreter, edgecnn.device.bench, edgecnn.core.manifest
import edgecnn.targets.boards
result = CliRunner().invoke(cli, ["benchmark", *sys.argv[1:], "--runs", "5", "--json"])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
print(json.dumps({"exit": result.exit_code, "out": result.stdout, "err": result.stderr,
                  "heavy": heavy}))
"""


def test_benchmark_runs_with_tensorflow_unimportable():
    models = [
        str(FIXTURES / "digits-lenet5-int8.tflite"),
        str(FIXTURES / "digits-lenet5-fp32.tflite"),
    ]
    proc = subprocess.run(
        [sys.executable, "-c", BLOCK_AND_RUN, *models], capture_output=True, text=True, check=True
    )
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["exit"] == 0, report["err"]
    assert report["heavy"] == []
    rows = json.loads(report["out"])
    assert [r["mode"] for r in rows] == ["int8", "fp32"]


def device_side_files(root: Path) -> list[Path]:
    """Every module of core, device and targets (all three are device side)."""
    parts = ("core", "device", "targets")
    return [p for part in parts for p in sorted((root / part).rglob("*.py"))]


def test_runtime_modules_never_import_host_tooling():
    """A static check besides import-linter: no device-side module names host tooling."""
    root = REPO / "edgecnn"
    files = device_side_files(root)
    assert len(files) > 40 and root / "device" / "io" / "sources.py" in files
    forbidden = (
        "tensorflow",
        "keras",
        "edgecnn.training",
        "edgecnn.optimize",
        "edgecnn.pipeline",
        "edgecnn.export",
        "edgecnn.mcu",
        "edgecnn.costfit",
        "edgecnn.cli",
        "tfdeps",
    )
    for path in files:
        text = path.read_text()
        for word in forbidden:
            assert f"import {word}" not in text and f"from {word}" not in text, (path, word)
            assert f"{word}()" not in text, (path, word)
