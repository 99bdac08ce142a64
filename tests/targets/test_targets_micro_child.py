"""TFLite Micro checks run in a child process: a TFLM crash is a reason, not a dead estimate."""

import json
import subprocess
import sys

import numpy as np
import pytest

from edgecnn.core.modes import Mode
from edgecnn.optimize.convert import convert
from edgecnn.targets import micro
from edgecnn.targets.estimate import estimate
from edgecnn.training import tfdeps

keras = tfdeps.keras()


def anomaly_autoencoder():
    """The MLPerf Tiny anomaly-detection autoencoder (Dense 640-128x4-8-128x4-640)."""
    inputs = keras.Input((640,))
    x = inputs
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        x = keras.layers.Dense(units)(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
    return keras.Model(inputs, keras.layers.Dense(640)(x))


@pytest.fixture(scope="module")
def autoencoder_int8(tmp_path_factory):
    calibration = np.random.default_rng(0).normal(size=(8, 640)).astype(np.float32)
    path = tmp_path_factory.mktemp("ae") / "ae-int8.tflite"
    path.write_bytes(convert(anomaly_autoencoder(), Mode.INT8, calibration=calibration))
    return path


def allocates_in_a_child(path, arena: int) -> int:
    """Exit code of a child allocating ``path`` in ``arena`` bytes (0 ok, 3 refused, <0 crash)."""
    code = (
        "import sys\nfrom tflite_micro.python.tflite_micro import runtime\n"
        "try:\n    runtime.Interpreter.from_bytes(open(sys.argv[1], 'rb').read(), "
        "arena_size=int(sys.argv[2]))\nexcept RuntimeError:\n    sys.exit(3)\n"
    )
    args = [sys.executable, "-c", code, str(path), str(arena)]
    return subprocess.run(args, capture_output=True).returncode


@pytest.mark.slow
def test_autoencoder_gets_its_arena_where_tflm_crashed(autoencoder_int8):
    """Before: exit 139 (TFLM segfaults for some arena sizes during the bisection)."""
    command = [sys.executable, "-m", "edgecnn", "estimate", str(autoencoder_int8), "--json",
               "--board", "nucleo-l4r5zi", "--board", "rpi-4b"]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-500:])
    nucleo, pi = json.loads(proc.stdout)
    assert nucleo["fits"] and nucleo["latency_ms"] > 0 and pi["fits"]
    arena = nucleo["arena_bytes"]
    assert allocates_in_a_child(autoencoder_int8, arena) == 0
    assert allocates_in_a_child(autoencoder_int8, arena - micro.ARENA_RESOLUTION) != 0


@pytest.mark.slow
def test_a_tflm_crash_is_a_reason_on_the_mcu_rows(autoencoder_int8, monkeypatch):
    crash = "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"
    monkeypatch.setattr(micro, "CHILD_CODE", crash)
    nucleo, pi = estimate(autoencoder_int8, boards=["nucleo-l4r5zi", "rpi-4b"])
    assert not nucleo.fits and "crashed" in nucleo.reason and "SIGSEGV" in nucleo.reason
    assert nucleo.arena_bytes is None and nucleo.latency_ms > 0
    assert pi.fits and pi.latency_ms > 0


def test_a_child_that_prints_nothing_is_a_reason(monkeypatch):
    monkeypatch.setattr(micro, "CHILD_CODE", "import sys; sys.exit(1)")
    check = micro.check_micro(b"not read by this child")
    assert not check.ok and "TFLite Micro" in check.problem


FAKE_TFLM = """
import json, os, signal, sys
from edgecnn.targets.microchild import FIRST_ARENA_GUESS, Search
search = Search(**json.loads(sys.argv[1]))
while not search.finished:
    arena = search.next_arena()
    print(json.dumps({"try": arena}), flush=True)
    if 1200 <= arena < 1500:  # like TFLM: a crash, not a refusal, for some too-small arenas
        os.kill(os.getpid(), signal.SIGSEGV)
    event = {"arena": arena, "ok": arena >= 1500}
    if arena == FIRST_ARENA_GUESS:
        event["used"] = 1400
    print(json.dumps(event), flush=True)
    search.apply(event)
"""


def test_crashes_inside_the_search_count_as_too_small(monkeypatch):
    monkeypatch.setattr(micro, "CHILD_CODE", FAKE_TFLM)
    children = []
    run_child = micro._run_child
    monkeypatch.setattr(micro, "_run_child", lambda *a: children.append(1) or run_child(*a))
    check = micro.check_micro(b"model")
    assert check.ok and check.arena_bytes == 1504  # the 16-byte grid step above 1500
    assert len(children) > 1  # a new child went on after each crash
