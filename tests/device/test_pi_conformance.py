"""Conformance: the comparer's rules, a small kit run on this host, and make test-pi's refusals.

The full emulated run (pi/test-pi.sh) takes minutes and needs root: `make test-pi`, not here.
"""

import copy
import json
import os
import runpy
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgecnn.cli import cli
from edgecnn.core.errors import BadInputError
from edgecnn.device.conformance.compare import FLOAT_TOL, compare, compare_case, lsb_text
from edgecnn.device.conformance.kit import load_kit, write_kit
from edgecnn.training.data.synthetic import make_sensor_csv
from tests.testkit import FIXTURES, REPO

TEST_PI = REPO / "pi" / "test-pi.sh"


def case(raw, *, dtype="int8", scale=0.00390625, labels=None, scores=None, xnnpack=True):
    """A case result as measure() writes it, with labels/scores derived from ``raw``."""
    raw = np.asarray(raw)
    top1 = raw.argmax(axis=1)
    if scores is None:
        scores = [round(float(v), 4) for v in raw.max(axis=1) * (scale if dtype == "int8" else 1)]
    return {
        "output": {"dtype": dtype, "scale": scale if dtype == "int8" else 0.0},
        "raw": raw.tolist(),
        "top1": top1.tolist(),
        "xnnpack": xnnpack,
        "run": {
            "exit": 0,
            "labels": labels or [str(i) for i in top1],
            "scores": scores,
            "stderr": "",
        },
    }


REF_INT = [[-128, 100, -20], [90, -128, 10]]
REF_FLOAT = [[0.1, 0.7, 0.2], [0.6, 0.3, 0.1]]


def test_int8_within_one_lsb_passes_two_lsb_fails():
    ref = case(REF_INT)
    one = compare_case("c", case([[-127, 101, -20], [89, -128, 11]]), ref)
    assert one.passed and one.max_abs_diff == 1 and one.lsb_counts == {0: 2, 1: 4}
    two = compare_case("c", case([[-128, 102, -20], [90, -128, 10]]), ref)
    assert not two.passed and any("up to 2 LSB" in p for p in two.problems)
    assert lsb_text({0: 5, 1: 2, 2: 1, 7: 3}) == "0:5 1:2 >1:4"


def test_top1_mismatch_fails_even_within_tolerance():
    ref = case([[10, 11, 0], [5, 0, 0]])
    got = case([[11, 10, 0], [5, 0, 0]])  # 1 LSB each way flips the first window
    result = compare_case("c", got, ref)
    assert result.top1_agree == 1 and result.windows == 2
    assert any("top-1 differs in 1 window(s), first #0" in p for p in result.problems)
    assert any("other labels" in p for p in result.problems)


def test_fp32_tolerance():
    ref = case(REF_FLOAT, dtype="float32")
    close = np.asarray(REF_FLOAT) + 0.9 * FLOAT_TOL
    assert compare_case("c", case(close, dtype="float32"), ref).passed
    far = np.asarray(REF_FLOAT) + 2 * FLOAT_TOL
    result = compare_case("c", case(far, dtype="float32"), ref)
    assert not result.passed and "float outputs differ by up to 2e-05" in result.problems[0]


def test_run_problems_missing_cases_and_kit_checks():
    ref = case(REF_INT)
    failed = case(REF_INT)
    failed["run"] |= {"exit": 2, "stderr": "edgecnn: error: bad"}
    assert "exited 2" in compare_case("c", failed, ref).problems[0]
    short = case(REF_INT)
    short["run"]["labels"] = short["run"]["labels"][:1]
    assert any("cut 2 windows" in p for p in compare_case("c", short, ref).problems)
    no_xnn = compare_case("c", case(REF_INT, xnnpack=False), ref)
    assert any("mount /sys" in p for p in no_xnn.problems)
    assert compare_case("c", None, ref).problems == ("not run here",)
    device = {
        "version": "edgecnn, version 0.1.0",
        "cases": {"c": case(REF_INT)},
        "tampered": {"refused": False, "exit": 0, "stderr": ""},
        "benchmark": {"exit": 0, "rows": [{}]},
        "startup_s": {"median": 1.0},
    }
    verdict = compare(device, {"cases": {"c": ref}})
    assert not verdict.passed and "tampered model was not refused" in verdict.problems[0]
    device["tampered"]["refused"] = True
    assert compare(device, {"cases": {"c": ref}}).passed


def test_kit_refuses_bad_folders(tmp_path):
    with pytest.raises(BadInputError, match="not a conformance kit"):
        load_kit(tmp_path)
    write_kit(tmp_path, [{"name": "a", "model": "models/none.tflite", "source": "replay:x.npz"}])
    with pytest.raises(BadInputError, match="none.tflite is missing"):
        load_kit(tmp_path)
    write_kit(tmp_path, [{"name": "a", "model": "m.tflite", "source": "stdin"}])
    with pytest.raises(BadInputError, match="must be replay:FILE"):
        load_kit(tmp_path)


@pytest.fixture
def small_kit(tmp_path):
    """The digits int8 bundle on 12 images and the IMU int8 bundle on a short recording."""
    kit = tmp_path / "kit"
    (kit / "models").mkdir(parents=True)
    for stem in ("digits-lenet5-int8", "imu-cnn1d-fp32"):
        for suffix in (".tflite", ".json"):
            shutil.copy(FIXTURES / f"{stem}{suffix}", kit / "models")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 17, size=(12, 8, 8, 1)).astype(np.float32)
    np.savez(kit / "digits.npz", x=x)
    make_sensor_csv(kit / "imu.csv", recordings_per_class=1, samples_per_recording=80, seed=1)
    digits = {"name": "digits-int8", "model": "models/digits-lenet5-int8.tflite"}
    imu = {"name": "imu-fp32", "model": "models/imu-cnn1d-fp32.tflite"}
    write_kit(kit, [digits | {"source": "replay:digits.npz"}, imu | {"source": "replay:imu.csv"}])
    return kit


@pytest.mark.slow
def test_kit_on_this_host_passes_then_fails_when_the_reference_is_off(small_kit):
    from edgecnn.device.conformance.check import format_check, run_check

    reference = run_check(small_kit, out=small_kit / "expected", startup_repeats=1)
    assert reference.comparison is None
    cases = reference.results["cases"]
    assert len(cases["digits-int8"]["raw"]) == 12 and len(cases["imu-fp32"]["raw"]) == 12
    assert cases["imu-fp32"]["run"]["labels"] and reference.results["tampered"]["refused"]
    assert len(reference.results["benchmark"]["rows"]) == 2
    expected = json.loads((small_kit / "expected" / "results.json").read_text())
    off = copy.deepcopy(expected)
    off["cases"]["digits-int8"]["raw"][0][0] += 2
    (small_kit / "expected" / "results.json").write_text(json.dumps(off))
    result = CliRunner().invoke(cli, ["doctor", "--conformance", str(small_kit)])
    assert result.exit_code == 1
    assert "int outputs differ by up to 2 LSB" in result.output
    assert "conformance failed" in result.output
    here = json.loads((small_kit / "results" / "results.json").read_text())
    assert compare(here, expected).passed, format_check(reference)
    summary = runpy.run_path(str(REPO / "pi" / "summary.py"))["summarize"]
    shutil.copytree(small_kit / "results", small_kit / "by-cpu" / "host")
    (line,) = summary(small_kit, small_kit / "by-cpu", ["host"])[1:]
    assert line.split()[-1] == "FAIL" and ">1:1" in line and "24/24" in line


def run_test_pi(tmp_path, **env):
    """Runs pi/test-pi.sh with a scratch folder and cache of its own."""
    base = {
        "EDGECNN_PI_WORK": str(tmp_path / "work"),
        "EDGECNN_PI_CACHE": str(tmp_path / "cache"),
        "EDGECNN_PI_PYPI": "http://127.0.0.1:9/",  # nothing listens there
        "EDGECNN_PI_MIRROR": "http://127.0.0.1:9/debian",
    }
    command = ["bash", str(TEST_PI)]
    env = os.environ | base | env
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)


def assert_refused_cleanly(proc, tmp_path, *needles):
    assert proc.returncode == 2, proc.stderr
    for needle in needles:
        assert needle in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert all(line.startswith("test-pi: cannot run: missing") for line in lines)
    assert not (tmp_path / "work").exists()
    assert str(tmp_path) not in Path("/proc/self/mountinfo").read_text()


def test_test_pi_needs_root(tmp_path):
    proc = run_test_pi(tmp_path, EDGECNN_PI_EUID="1000")
    assert_refused_cleanly(proc, tmp_path, "missing root", "sudo make test-pi")


def test_test_pi_needs_qemu(tmp_path):
    proc = run_test_pi(tmp_path, EDGECNN_PI_EUID="1000", EDGECNN_PI_QEMU="/nonexistent/qemu")
    assert_refused_cleanly(proc, tmp_path, "/nonexistent/qemu not found", "qemu-user-static")


def test_test_pi_needs_the_registries(tmp_path):
    proc = run_test_pi(tmp_path, EDGECNN_PI_EUID="1000")
    assert_refused_cleanly(proc, tmp_path, "PyPI is not reachable (http://127.0.0.1:9/)")
