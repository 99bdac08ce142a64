"""Python 3.11+: pyproject, ruff and the Makefile's venv bootstrap say the same version."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.testkit import REPO as ROOT


def test_requires_python_ruff_target_and_the_makefile_agree_on_3_11():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    (minimum,) = re.findall(r"^MIN_PYTHON := (\S+)$", makefile, flags=re.MULTILINE)
    assert minimum == "3.11"
    assert config["project"]["requires-python"] == f">={minimum}"
    assert config["tool"]["ruff"]["target-version"] == "py" + minimum.replace(".", "")
    assert not any("tomli" in d for d in config["project"]["dependencies"])


def fake_python(tmp_path: Path, version: tuple[int, int]) -> Path:
    """This interpreter, reporting another version to the code it runs with -c."""
    script = tmp_path / f"python{version[0]}.{version[1]}"
    script.write_text(
        "#!/bin/sh\n"
        f'exec "{sys.executable}" -c "import sys; sys.version_info = {version + (0,)}; '
        'exec(sys.argv[2])" "$@"\n'
    )
    script.chmod(0o755)
    return script


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize("version", [(3, 10), (3, 11), (3, 13)])
def test_the_venv_bootstrap_refuses_an_older_python_in_one_line(tmp_path, version):
    python = fake_python(tmp_path, version)
    out = subprocess.run(
        ["make", "-s", "--no-print-directory", "python-check", f"PYTHON={python}"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    if version >= (3, 11):
        assert out.returncode == 0 and out.stderr == ""
        return
    assert out.returncode != 0
    assert out.stderr.splitlines()[0] == (
        f"{python} 3.10 is too old: edgecnn needs Python 3.11+; set PYTHON=python3.11"
    )
