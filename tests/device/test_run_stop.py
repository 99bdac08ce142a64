"""``edgecnn run`` stops within a second of SIGTERM/SIGINT whatever its source is doing."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from edgecnn.core.preprocess import DataKind, Preprocessing
from edgecnn.device.io.base import Paced, StopFlag
from edgecnn.device.io.sources import CsvLines
from tests.testkit import FIXTURES

EDGECNN = str(Path(sys.executable).with_name("edgecnn"))
SENSOR = Preprocessing(
    kind=DataKind.SENSOR, input_shape=(8, 3), channels=("ax", "ay", "az"), window=8, hop=4
)
STOP_WITHIN_S = 2.0  # the promise is one second; the rest is slack for a loaded machine


def catches_sigterm(pid: int) -> bool:
    """True once the process installed its own SIGTERM handler (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signal.SIGTERM - 1) & 1)
    return False


def wait_until(check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def stop_and_time(proc: subprocess.Popen, sig: int) -> tuple[float, str]:
    """Sends ``sig``; returns how long the process took to exit and its stderr."""
    sent = time.monotonic()
    proc.send_signal(sig)
    try:
        proc.wait(timeout=10)  # not communicate(): that would close stdin, an EOF
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"still running 10 s after signal {sig}")
    took = time.monotonic() - sent
    return took, proc.communicate()[1]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_a_stdin_run_that_waits_for_input(sig):
    rows = [f"{i % 7 / 7:.3f},{i % 5 / 5:.3f},{i % 3 / 3:.3f}" for i in range(40)]
    proc = subprocess.Popen(
        [EDGECNN, "run", str(FIXTURES / "imu-cnn1d-int8.tflite"), "--source", "stdin"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    proc.stdin.write("\n".join(rows) + "\n")
    proc.stdin.flush()  # and kept open: the source now waits for a line that never comes
    first = json.loads(proc.stdout.readline())
    took, err = stop_and_time(proc, sig)
    assert proc.returncode == 0, err
    assert took < STOP_WITHIN_S, f"took {took:.1f} s to stop"
    assert first["window"] == 1 and "1 windows" in err


@pytest.mark.parametrize("suffix", ["npz", "csv"])
def test_sigterm_stops_a_slowly_paced_replay_between_samples(tmp_path, suffix):
    if suffix == "npz":
        model = FIXTURES / "digits-lenet5-int8.tflite"
        replay = tmp_path / "frames.npz"
        np.savez(replay, x=np.zeros((3, 8, 8, 1), np.float32))
    else:
        model = FIXTURES / "imu-cnn1d-int8.tflite"
        replay = tmp_path / "imu.csv"
        replay.write_text("ax,ay,az\n" + "0.1,0.2,0.3\n" * 40)
    proc = subprocess.Popen(
        [EDGECNN, "run", str(model), "--source", f"replay:{replay}", "--rate", "0.05"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_until(lambda: proc.poll() is not None or catches_sigterm(proc.pid))
    assert proc.poll() is None, proc.communicate()
    time.sleep(0.2)  # now inside the 20 s wait for the first sample
    took, err = stop_and_time(proc, signal.SIGTERM)
    assert proc.returncode == 0, err
    assert took < STOP_WITHIN_S, f"took {took:.1f} s to stop"
    assert "0 windows" in err


def test_stdin_source_on_a_quiet_pipe_ends_soon_after_stop():
    read_end, write_end = os.pipe()
    try:
        with os.fdopen(read_end, "r", closefd=False) as stream:
            source = CsvLines(stream, SENSOR)
            os.write(write_end, b"1,2,3\n4,5")  # a whole line, then half of one
            items = []
            threading.Timer(0.3, source.stop.set).start()
            started = time.monotonic()
            items.extend(source)
            assert time.monotonic() - started < 1.0
            assert [list(item.values) for item in items] == [[1.0, 2.0, 3.0]]
    finally:
        os.close(read_end)
        os.close(write_end)


def test_paced_wait_ends_at_once_when_stopped():
    stop = StopFlag()
    pace = Paced(0.01, stop)  # one sample per 100 s
    threading.Timer(0.1, stop.set).start()
    started = time.monotonic()
    assert pace.wait() is False
    assert time.monotonic() - started < 1.0


def test_a_signal_handler_setting_the_stop_flag_ends_a_wait_at_once():
    stop = StopFlag()
    assert not stop.is_set() and stop.wait(0.01) is False
    previous = signal.signal(signal.SIGALRM, lambda *_: stop.set())
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        started = time.monotonic()
        assert stop.wait(10.0) is True
        assert time.monotonic() - started < 1.0 and stop.is_set()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
