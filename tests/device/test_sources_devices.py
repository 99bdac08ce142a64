"""Live sources: serial over a real pseudo-terminal, the MPU-6050 and camera with fakes."""

import itertools
import os
import struct
import sys
import threading

import numpy as np
import pytest

from edgecnn.core.errors import BadInputError, RunFailedError
from edgecnn.core.preprocess import DataKind, Preprocessing
from edgecnn.device.io import camera, devices
from edgecnn.device.io.devices import Backoff, Camera, Mpu6050, SerialLines
from edgecnn.device.io.sources import open_source
from tests.testkit import FIXTURES

SENSOR = Preprocessing(
    kind=DataKind.SENSOR, input_shape=(8, 3), channels=("ax", "ay", "az"), window=8, hop=4,
    sample_rate_hz=50.0,
)
IMAGE = Preprocessing(kind=DataKind.IMAGE, input_shape=(4, 6, 3), color_mode="rgb")


def no_wait_backoff(delays, max_failures=20):
    """A backoff that records its delays instead of sleeping."""
    return Backoff(first=0.5, limit=10.0, max_failures=max_failures, sleep=delays.append)


def take(iterable, n, timeout=10.0):
    """The first n items, failing (not hanging) if they do not arrive in time."""
    out, error = [], []

    def consume():
        try:
            out.extend(itertools.islice(iterable, n))
        except Exception as exc:  # noqa: BLE001 - re-raised in the test thread
            error.append(exc)

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"only {len(out)} of {n} items arrived in {timeout}s"
    if error:
        raise error[0]
    return out


class Pty:
    """A pseudo-terminal whose master end plays the Arduino."""

    def __init__(self):
        self.master, self.slave = os.openpty()
        self.path = os.ttyname(self.slave)
        self.stop = threading.Event()
        self.writer = None

    def stream(self, lines):
        """Writes the lines over and over from a thread until stopped or closed."""

        def write():
            for line in itertools.cycle(lines):
                if self.stop.is_set():
                    return
                try:
                    os.write(self.master, line)
                except OSError:
                    return
                self.stop.wait(0.005)

        self.writer = threading.Thread(target=write, daemon=True)
        self.writer.start()

    def close(self):
        # Once only: a second close could hit an fd number reused by someone else.
        if not self.stop.is_set():
            self.stop.set()
            if self.writer is not None:
                self.writer.join()
            os.close(self.master)
            os.close(self.slave)


@pytest.fixture
def pty():
    pytest.importorskip("serial")
    ends = Pty()
    yield ends
    ends.close()


def test_serial_source_reads_samples_and_counts_garbled_lines_over_a_real_pty(pty):
    source = open_source(f"serial:{pty.path}?baud=115200", SENSOR)
    assert isinstance(source, SerialLines)
    pty.stream([b"1.0,2.0,3.0\n", b"garbage\xff\n", b"4,5\n", b"nan,1,2\n", b"7,8,9\r\n"])
    items = take(source, 6)
    values = {tuple(item.values) for item in items}
    assert values <= {(1.0, 2.0, 3.0), (7.0, 8.0, 9.0)}
    assert len(values) == 2
    assert not any(item.is_window for item in items)
    assert source.stats.dropped >= 3  # garbage, the short line, the NaN line


def test_serial_source_reconnects_after_the_device_goes_away(pty):
    import serial

    second = Pty()
    try:
        ports = [pty.path, second.path]
        opened = []

        def opener(_port, baud):
            if not ports:
                raise serial.SerialException("no such device")
            opened.append(ports[0])
            return serial.Serial(ports.pop(0), baud, timeout=0.1)

        delays = []
        source = SerialLines("/dev/ttyACM9", SENSOR, opener=opener,
                             backoff=no_wait_backoff(delays))
        pty.stream([b"1,1,1\n"])
        second.stream([b"2,2,2\n"])
        items = iter(source)
        first = take(items, 3)
        assert all(tuple(i.values) == (1.0, 1.0, 1.0) for i in first)
        pty.close()  # the cable is pulled: reads fail, the source reopens (now pty 2)
        after = take(items, 3)
        assert all(tuple(i.values) == (2.0, 2.0, 2.0) for i in after)
        assert opened == [pty.path, second.path]
        assert source.stats.errors >= 1
        assert delays and delays[0] == 0.5
    finally:
        second.close()


class ScriptedPort:
    """A fake serial port that returns scripted chunks, then raises."""

    def __init__(self, chunks):
        self.chunks = list(chunks)
        self.closed = False

    def readline(self):
        if not self.chunks:
            raise OSError("device disconnected")
        return self.chunks.pop(0)

    def close(self):
        self.closed = True


def test_serial_backoff_grows_to_its_limit_and_resets_after_a_good_line():
    ports = iter(
        [ScriptedPort([b"x\n", b"1,2,3\n"])]
        + [OSError("gone")] * 7
        + [ScriptedPort([b"junk\n", b"4,5", b",6\n", b"x" * 5000, b"\n", b"7,8,9\n"])]
    )

    def opener(_port, _baud):
        port = next(ports)
        if isinstance(port, Exception):
            raise port
        return port

    delays = []
    source = SerialLines("/dev/x", SENSOR, opener=opener, backoff=no_wait_backoff(delays))
    items = take(source, 3)
    # The first line after each connect is skipped; a line split by a read timeout is joined.
    assert [tuple(i.values) for i in items] == [(1, 2, 3), (4, 5, 6), (7, 8, 9)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]
    assert source.stats.errors == 8
    assert source.stats.dropped == 1  # the 5000 bytes without a newline


def test_serial_gives_up_after_max_failures():
    def opener(_port, _baud):
        raise OSError("gone")

    source = SerialLines("/dev/x", SENSOR, opener=opener, backoff=no_wait_backoff([], 3))
    with pytest.raises(RunFailedError, match="4 times"):
        list(source)


def test_serial_missing_device_and_permission_are_bad_input(tmp_path):
    with pytest.raises(BadInputError, match="/dev/ttyNOPE0"):
        open_source("serial:/dev/ttyNOPE0", SENSOR)
    with pytest.raises(BadInputError, match="not serial"):
        SerialLines("/dev/x", IMAGE, opener=lambda *_: None)

    def denied(_port, _baud):
        raise PermissionError("denied")

    with pytest.raises(BadInputError, match="dialout"):
        list(SerialLines("/dev/x", SENSOR, opener=denied))


def mpu_bytes(ax, ay, az, temp, gx, gy, gz):
    return list(struct.pack(">7h", ax, ay, az, temp, gx, gy, gz))


class FakeBus:
    """An SMBus stand-in: known registers; fails every ``fail_every``-th read."""

    def __init__(self, log, fail_every=0):
        self.log, self.fail_every, self.reads = log, fail_every, 0

    def write_byte_data(self, addr, reg, value):
        self.log.append(("write", addr, reg, value))

    def read_i2c_block_data(self, addr, reg, length):
        self.reads += 1
        if self.fail_every and self.reads % self.fail_every == 0:
            raise OSError(121, "Remote I/O error")
        self.log.append(("read", addr, reg, length))
        return mpu_bytes(16384, -8192, 0, 1234, 131, -262, 655)

    def close(self):
        self.log.append(("close",))


def test_mpu6050_converts_registers_to_g_and_dps_in_the_model_channel_order():
    pre = Preprocessing(kind=DataKind.SENSOR, input_shape=(8, 4),
                        channels=("gz", "ax", "GY", "ay"), sample_rate_hz=100)
    log, paced = [], []
    source = Mpu6050(pre, bus=3, addr=0x69, rate_hz=100, bus_opener=lambda bus: FakeBus(log),
                     pace=lambda: paced.append(1))
    items = take(source, 2)
    assert np.allclose(items[0].values, [655 / 131, 1.0, -2.0, -0.5])
    assert log[0] == ("write", 0x69, 0x6B, 0)  # woken before the first read
    assert log[1] == ("read", 0x69, 0x3B, 14)
    assert len(paced) == 2


def test_mpu6050_read_errors_are_retried_counted_and_the_device_rewoken():
    log, delays = [], []
    source = Mpu6050(SENSOR, rate_hz=50, bus_opener=lambda bus: FakeBus(log, fail_every=3),
                     pace=lambda: None, backoff=no_wait_backoff(delays))
    items = take(source, 6)
    assert len(items) == 6
    assert source.stats.errors == 2
    assert delays == [0.5, 0.5]  # a good read in between resets the backoff
    assert sum(1 for entry in log if entry[0] == "write") == 3


def test_mpu6050_rejects_channels_it_lacks_and_a_missing_bus():
    pre = Preprocessing(kind=DataKind.SENSOR, input_shape=(8, 2), channels=("ax", "temp"))
    with pytest.raises(BadInputError, match="temp"):
        Mpu6050(pre, rate_hz=10, bus_opener=lambda bus: FakeBus([]))
    with pytest.raises(BadInputError, match="/dev/i2c-97"):
        open_source("i2c:mpu6050?bus=97&addr=0x68", SENSOR)
    with pytest.raises(BadInputError, match="not supported"):
        open_source("i2c:bme280", SENSOR)


def test_mpu6050_sample_matches_the_datasheet_scale():
    assert np.allclose(devices.mpu6050_sample(mpu_bytes(-16384, 0, 8192, 0, -131, 0, 0)),
                       [-1.0, 0.0, 0.5, -1.0, 0.0, 0.0])
    with pytest.raises(OSError, match="short"):
        devices.mpu6050_sample([0] * 6)


class FakeCapture:
    """An OpenCV-like capture: BGR frames, with scripted failed grabs."""

    def __init__(self, script):
        self.script = list(script)
        self.released = False

    def read(self):
        ok = self.script.pop(0) if self.script else True
        if not ok:
            return False, None
        frame = np.zeros((48, 64, 3), dtype=np.uint8)
        frame[..., 0] = 255  # pure blue in BGR order
        return True, frame

    def release(self):
        self.released = True


def test_camera_frames_become_model_sized_rgb_windows():
    pytest.importorskip("PIL")
    captures = []

    def opener(index):
        captures.append(FakeCapture([True, False, True]))
        return captures[-1]

    delays = []
    source = Camera(0, IMAGE, opener=opener, backoff=no_wait_backoff(delays))
    items = take(source, 2)
    assert all(item.is_window for item in items)
    assert items[0].values.shape == (4, 6, 3) and items[0].values.dtype == np.uint8
    assert items[0].values[0, 0].tolist() == [0, 0, 255]  # BGR blue arrives as RGB blue
    assert source.stats.errors == 1 and delays == [0.5]


def test_camera_grayscale_matches_pillow_training_resize():
    image = pytest.importorskip("PIL.Image")
    pre = Preprocessing(kind=DataKind.IMAGE, input_shape=(5, 7, 1), color_mode="grayscale")
    frame = np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    got = devices.frame_to_input(frame, pre, image)
    want = image.fromarray(frame[..., ::-1]).convert("L").resize((7, 5), image.Resampling.BILINEAR)
    assert np.array_equal(got[..., 0], np.asarray(want))


def test_camera_reopens_after_repeated_failed_grabs():
    pytest.importorskip("PIL")
    captures = []

    def opener(index):
        captures.append(FakeCapture([False] * 5 if not captures else []))
        return captures[-1]

    source = Camera(2, IMAGE, opener=opener, backoff=no_wait_backoff([]))
    take(source, 1)
    assert len(captures) == 2 and captures[0].released
    assert source.stats.errors == 5


def test_camera_refuses_a_sensor_model_and_parses_its_index():
    with pytest.raises(BadInputError, match="not camera"):
        open_source("camera:0", SENSOR)
    assert open_source("camera:1", IMAGE).index == 1
    with pytest.raises(BadInputError, match="integer"):
        open_source("camera:front", IMAGE)


class QuietPort:
    """A connected device that sends nothing: every read times out empty."""

    def readline(self):
        threading.Event().wait(0.01)
        return b""

    def close(self):
        pass


@pytest.mark.parametrize("opener", [lambda *_: QuietPort(), "fails"])
def test_stop_ends_a_quiet_or_disconnected_serial_source_promptly(opener):
    if opener == "fails":

        def opener(_port, _baud):
            raise OSError("gone")

    # The default backoff (0.5 s .. 10 s) waits on the stop event, so stopping cuts it short.
    source = SerialLines("/dev/x", SENSOR, opener=opener)
    threading.Timer(0.2, source.stop.set).start()
    assert take(source, 1, timeout=3.0) == []


def test_missing_drivers_name_the_extra(monkeypatch):
    from edgecnn.core.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, "serial", None)  # None makes the import fail
    with pytest.raises(MissingDependencyError, match=r"pyserial.*edgecnn\[serial\]"):
        open_source("serial:/dev/null", SENSOR)
    monkeypatch.setitem(sys.modules, "picamera2", None)
    monkeypatch.setitem(sys.modules, "cv2", None)
    with pytest.raises(MissingDependencyError, match=r"opencv-python-headless.*edgecnn\[camera\]"):
        devices.open_camera(0)


def test_edgecnn_run_on_a_camera_end_to_end(monkeypatch, tmp_path):
    pytest.importorskip("PIL")
    from edgecnn.device.loop import run
    from edgecnn.device.preflight import RunOptions

    model = FIXTURES / "digits-lenet5-int8.tflite"
    monkeypatch.setattr(camera, "open_camera", lambda index: FakeCapture([]))
    out = tmp_path / "r.jsonl"
    summary = run(str(model), source="camera:0", sinks=[f"jsonl:{out}"],
                  options=RunOptions(max_windows=3), log=lambda _line: None)
    assert summary.windows == 3
    assert len(out.read_text().splitlines()) == 3


@pytest.mark.parametrize("path", ["/dev/null", "FILE"])
def test_serial_refuses_what_is_not_a_terminal_in_one_line(tmp_path, path):
    """Old: ``serial:/dev/null`` was retried forever (pyserial cannot configure it)."""
    pytest.importorskip("serial")
    if path == "FILE":
        path = tmp_path / "not-a-port"
        path.write_text("1,2,3\n")
    with pytest.raises(BadInputError, match="not a serial device"):
        list(open_source(f"serial:{path}", SENSOR))
