"""An installed wheel, not only a checkout, carries the board profiles and the cost model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.testkit import REPO as ROOT

# Left out of the copy the wheel is built from: a build/ folder in the checkout would
# otherwise lend the wheel stale files (pip reuses build/lib).
NOT_SOURCES = (".git", ".venv", "build", "dist", "runs", "*.egg-info", "__pycache__", ".*_cache")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source, out = tmp_path_factory.mktemp("source") / "edgecnn", tmp_path_factory.mktemp("wheel")
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(*NOT_SOURCES))
    build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
             "--no-build-isolation", "--wheel-dir", str(out), str(source)]  # fmt: skip
    subprocess.run(build, check=True, capture_output=True, timeout=300)
    (found,) = out.glob("edgecnn-*.whl")
    return found


def test_the_wheel_holds_every_board_file_and_the_cost_model(wheel):
    shipped = {p.name for p in (ROOT / "boards").iterdir() if p.suffix in (".toml", ".json")}
    with zipfile.ZipFile(wheel) as archive:
        in_wheel = {Path(n).name for n in archive.namelist() if n.startswith("edgecnn/_boards/")}
    assert "cost-model.json" in shipped
    assert in_wheel == shipped


def test_the_wheel_holds_every_code_template(wheel):
    folder = ROOT / "edgecnn" / "export" / "templates"
    shipped = {p.relative_to(folder).as_posix() for p in folder.rglob("*.in")}
    prefix = "edgecnn/export/templates/"
    with zipfile.ZipFile(wheel) as archive:
        in_wheel = {n[len(prefix):] for n in archive.namelist() if n.endswith(".in")}
    assert {"sketch/sketch.ino.in", "firmware/Makefile.in", "firmware/mps2_an386.ld.in"} <= shipped
    assert in_wheel == shipped


@pytest.fixture(scope="module")
def site(wheel, tmp_path_factory) -> Path:
    """The wheel installed into a folder of its own, its package made read-only."""
    site = tmp_path_factory.mktemp("site")
    install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
               "--target", str(site), str(wheel)]  # fmt: skip
    subprocess.run(install, check=True, capture_output=True, timeout=300)
    for folder in (site / "edgecnn" / "_boards", site / "edgecnn"):
        folder.chmod(0o555)  # as in a system site-packages (root ignores it; others do not)
    yield site
    for folder in (site / "edgecnn", site / "edgecnn" / "_boards"):
        folder.chmod(0o755)


def test_an_installed_wheel_knows_the_boards_of_the_checkout(site, tmp_path):
    script = (
        "import json, edgecnn, edgecnn.targets.boards as b, edgecnn.targets.costmodel as c; "
        "print(json.dumps([edgecnn.__file__, b.known_board_ids(), c.COST_MODEL_PATH.is_file()]))"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("EDGECNN_BOARDS", None)
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=True, timeout=120)  # fmt: skip
    module, boards, has_cost_model = json.loads(done.stdout)
    assert Path(module).is_relative_to(site)
    assert boards == sorted(p.stem for p in (ROOT / "boards").glob("*.toml"))
    assert has_cost_model


def test_an_installed_wheel_exports_a_sketch_from_its_templates(site, tmp_path):
    fixture = ROOT / "tests" / "fixtures" / "digits-lenet5-int8.tflite"
    script = (
        "import sys; from edgecnn.export import export_arduino; "
        "print(export_arduino(sys.argv[1], board='arduino-nano-33-ble-sense', "
        "out=sys.argv[2]).sketch_dir)"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("EDGECNN_BOARDS", None)
    command = [sys.executable, "-c", script, str(fixture), str(tmp_path / "out")]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    golden = ROOT / "tests" / "fixtures" / "generated"  # tests/export/test_generated_golden.py
    index = json.loads((golden / "cases" / "arduino-digits-nano.json").read_text())
    sketch = Path(done.stdout.strip())
    for name in ("digits-lenet5-int8.ino", "model_io.cpp", "README.md"):
        assert (sketch / name).read_bytes() == (golden / "blobs" / index[name]).read_bytes(), name


def test_calibrate_on_an_installed_wheel_writes_to_the_user_folder(site, tmp_path):
    """Before: the refit went into site-packages (a PermissionError traceback there)."""
    shipped = site / "edgecnn" / "_boards" / "cost-model.json"
    before = shipped.read_bytes(), shipped.stat().st_mtime_ns
    env = {**os.environ, "PYTHONPATH": str(site), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    env.pop("EDGECNN_BOARDS", None)
    command = [sys.executable, "-m", "edgecnn", "boards", "calibrate"]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-1000:]
    refit = tmp_path / "config" / "edgecnn" / "cost-model.json"
    assert f"stored {refit}" in done.stdout and refit.is_file()
    assert (shipped.read_bytes(), shipped.stat().st_mtime_ns) == before
    script = "import edgecnn.targets.costmodel as c; print(c.cost_model_path())"
    used = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=True, timeout=120)  # fmt: skip
    assert used.stdout.strip() == str(refit)
