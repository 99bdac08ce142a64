"""CI never skips silently: every tool or service a test may skip without is installed by
.ci/run and required there (EDGECNN_REQUIRE_*), so its absence fails the run."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.testkit import REPO

CI = (REPO / ".ci" / "run").read_text()


def test_every_require_switch_the_tests_read_is_set_by_ci():
    read = set()
    for path in (REPO / "tests").rglob("*.py"):
        read |= set(re.findall(r"EDGECNN_REQUIRE_[A-Z]+", path.read_text()))
    exported = set(re.findall(r"(EDGECNN_REQUIRE_[A-Z]+)=1", CI))
    assert "EDGECNN_REQUIRE_GPP" in read
    assert read <= exported, f"not required in .ci/run: {sorted(read - exported)}"


def test_ci_installs_gpp_when_missing():
    assert re.search(r"command -v g\+\+ .*\|\| missing\+=\(g\+\+\)", CI)


def test_ci_installs_the_audio_tools_when_missing():
    assert re.search(r"command -v espeak-ng .*\|\| missing\+=\(espeak-ng\)", CI)
    assert re.search(r"command -v arecord .*\|\| missing\+=\(alsa-utils\)", CI)


def test_ci_installs_the_arm_toolchain_when_missing():
    for package in ("gcc-arm-none-eabi", "libnewlib-arm-none-eabi",
                    "libstdc++-arm-none-eabi-newlib", "binutils-arm-none-eabi"):
        assert re.search(rf"missing\+=\(.*{re.escape(package)}", CI, re.S), package


def run_compile_test(tmp_path, **env):
    """One sketch-compile test of test_export_arduino with no g++ on PATH."""
    empty = tmp_path / "bin"
    empty.mkdir(exist_ok=True)
    test = (
        "tests/export/test_export_arduino.py"
        "::test_sketch_compiles_against_the_tflite_micro_headers"
    )
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", test],
        capture_output=True, text=True, timeout=600, cwd=REPO,
        env=os.environ | {"PATH": str(empty)} | env,
    )  # fmt: skip


def test_without_gpp_the_sketch_tests_skip_and_fail_when_required(tmp_path):
    skipped = run_compile_test(tmp_path, EDGECNN_REQUIRE_GPP="0")
    assert skipped.returncode == 0 and "SKIPPED" in skipped.stdout, skipped.stdout
    required = run_compile_test(tmp_path, EDGECNN_REQUIRE_GPP="1")
    assert required.returncode == 1, required.stdout
    assert "EDGECNN_REQUIRE_GPP=1 but g++ is not installed" in required.stdout
