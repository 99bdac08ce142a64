"""Live sources: an Arduino over serial, an MPU-6050 over I2C, a camera.

Device side: numpy and stdlib only at import time. pyserial, smbus2, picamera2, OpenCV and
Pillow are imported inside the function that needs them, so ``edgecnn run`` on a replay file
never needs them. A device that errors or disconnects is retried with a bounded exponential
backoff and counted in ``stats.errors``; the source keeps running, because a service on a Pi
should ride out a loose cable rather than exit.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgecnn.core.errors import BadInputError, RunFailedError
from edgecnn.core.optional import require
from edgecnn.core.preprocess import DataKind, Preprocessing
from edgecnn.device.io.sources import Item, Source, _Paced, _parse_row

log = logging.getLogger(__name__)

# MPU-6050 registers and default full-scale sensitivities (datasheet, section 4).
MPU6050_PWR_MGMT_1 = 0x6B
MPU6050_ACCEL_XOUT_H = 0x3B
MPU6050_ACCEL_LSB_PER_G = 16384.0  # +-2 g
MPU6050_GYRO_LSB_PER_DPS = 131.0  # +-250 deg/s
MAX_LINE_BYTES = 4096  # longer without a newline is noise, not a sample
IMU_CHANNELS = ("ax", "ay", "az", "gx", "gy", "gz")

CAMERA_CAPTURE_SIZE = (640, 480)  # grab at a common size, then resize like training did
CAMERA_REOPEN_AFTER = 5  # consecutive failed grabs before the camera is reopened


@dataclass(frozen=True)
class Backoff:
    """Bounded exponential retry delays; ``sleep`` is injectable so tests never wait.

    Args:
        first: the first delay in seconds.
        limit: the longest delay.
        factor: how much each failure lengthens the next delay.
        max_failures: consecutive failures before giving up (None = never give up).
        sleep: the sleep function [waits on the source's ``stop`` event, so a stop request
            ends the wait at once].
    """

    first: float = 0.5
    limit: float = 10.0
    factor: float = 2.0
    max_failures: int | None = None
    sleep: Callable[[float], Any] | None = None


class _Retry:
    """Tracks consecutive failures of one device and sleeps between attempts."""

    def __init__(self, backoff: Backoff, source: Source, what: str) -> None:
        self.backoff, self.stats, self.what = backoff, source.stats, what
        self.sleep = backoff.sleep or source.stop.wait
        self.failures = 0

    def failed(self, exc: BaseException) -> None:
        """Counts and logs a failure, then sleeps (or gives up after ``max_failures``)."""
        self.failures += 1
        self.stats.errors += 1
        limit = self.backoff.max_failures
        if limit is not None and self.failures > limit:
            raise RunFailedError(f"{self.what} failed {self.failures} times in a row: {exc}")
        grown = self.backoff.first * self.backoff.factor ** (self.failures - 1)
        delay = min(self.backoff.limit, grown)
        log.warning("%s: %s; retrying in %.1f s", self.what, exc, delay)
        self.sleep(delay)

    def succeeded(self) -> None:
        """A good read: the next failure starts again from the shortest delay."""
        self.failures = 0


def _close(handle: Any, method: str = "close") -> None:
    """Closes a device handle, ignoring errors (it is usually already broken)."""
    # A broken handle may fail in any way while closing; it is being dropped anyway.
    with contextlib.suppress(Exception):
        getattr(handle, method)()


# --------------------------------------------------------------------------- serial


class SerialLines(Source):
    """Comma-separated samples from a serial device, one per line, in the model's channel order.

    Lines with the wrong number of values, or values that are not finite numbers, are dropped
    and counted. The first line after each (re)connect is discarded unread: the port may have
    been opened mid-line, and a cut-off number would still parse.

    Args:
        port: the device path, e.g. ``/dev/ttyACM0``.
        pre: the model's preprocessing (its ``channels`` give the expected value count).
        baud: the baud rate.
        opener: ``opener(port, baud)`` returns an object with ``readline()`` and ``close()``
            (default: ``serial.Serial`` with a 1 s read timeout).
        backoff: reconnect timing.
    """

    def __init__(
        self,
        port: str,
        pre: Preprocessing,
        *,
        baud: int = 115200,
        opener: Callable[[str, int], Any] | None = None,
        backoff: Backoff = Backoff(),
    ) -> None:
        super().__init__()
        if not pre.channels:
            raise BadInputError(f"the model takes {pre.kind} input, not serial sensor lines")
        if opener is None and not Path(port).exists():
            raise BadInputError(f"serial device {port} does not exist (is the board plugged in?)")
        if opener is None:  # fail at start, not at the first read, when pyserial is missing
            require("serial", extra="serial", package="pyserial")
        self.port, self.pre, self.baud = port, pre, baud
        self.opener = opener or _open_serial
        self.backoff = backoff

    def __iter__(self) -> Iterator[Item]:
        columns = list(range(len(self.pre.channels or ())))
        warned = False
        for line in self._lines():
            fields = line.split(",")
            if len(fields) != len(columns):
                self.stats.dropped += 1
                if not warned:  # once: the usual cause is a sketch printing extra fields
                    warned = True
                    log.warning(
                        "serial device %s: dropped %r: %d value(s), the model wants %d (%s)",
                        self.port, line[:80], len(fields), len(columns),
                        ", ".join(self.pre.channels or ()),
                    )
                continue
            values = _parse_row(fields, columns, self.stats)
            if values is not None:
                yield Item(values, False)

    def _lines(self) -> Iterator[str]:
        """Decoded, stripped, non-empty lines, reconnecting whenever the device fails."""
        retry = _Retry(self.backoff, self, f"serial device {self.port}")
        handle = self._first_open()
        pending, skip_first = b"", True
        try:
            while not self.stop.is_set():
                if handle is None:
                    try:
                        handle = self.opener(self.port, self.baud)
                    except OSError as exc:  # SerialException is an OSError
                        retry.failed(exc)
                        continue
                    log.warning("serial device %s: reconnected", self.port)
                    pending, skip_first = b"", True
                try:
                    chunk = handle.readline()
                except OSError as exc:
                    _close(handle)
                    handle = None
                    retry.failed(exc)
                    continue
                # A read timeout returns a partial line: keep it until its newline arrives.
                pending += chunk
                if len(pending) > MAX_LINE_BYTES:  # no newline ever: a wrong baud rate, say
                    self.stats.dropped += 1
                    pending = b""
                if not pending.endswith(b"\n"):
                    continue
                line, pending = pending.decode("ascii", errors="replace").strip(), b""
                retry.succeeded()
                if skip_first:
                    skip_first = False
                elif line:
                    yield line
        finally:
            if handle is not None:
                _close(handle)

    def _first_open(self) -> Any:
        """Opens the port; a permission problem is the user's to fix, not a retry."""
        try:
            return self.opener(self.port, self.baud)
        except PermissionError:
            raise BadInputError(
                f"no permission to open {self.port}; add yourself to its group "
                f"(usually: sudo usermod -aG dialout $USER, then log in again)"
            ) from None
        except OSError as exc:
            self.stats.errors += 1
            log.warning("serial device %s: %s; will retry", self.port, exc)
            return None


def _open_serial(port: str, baud: int) -> Any:
    serial = require("serial", extra="serial", package="pyserial")
    try:
        return serial.Serial(port, baud, timeout=1.0)
    except serial.SerialException as exc:
        # pyserial wraps EACCES; unwrap it so the caller can tell permissions from hiccups.
        if isinstance(exc.__context__, PermissionError) or "Permission denied" in str(exc):
            raise PermissionError(str(exc)) from exc
        raise


# --------------------------------------------------------------------------- I2C IMU


class Mpu6050(Source):
    """Accelerometer (g) and gyro (deg/s) samples read from an MPU-6050 over I2C.

    Args:
        pre: the model's preprocessing; its channels are matched by name to
            ``ax, ay, az, gx, gy, gz``.
        bus: the I2C bus number (``/dev/i2c-<bus>``).
        addr: the device address (0x68, or 0x69 with AD0 high).
        rate_hz: samples per second (0 = as fast as the bus allows).
        bus_opener: ``bus_opener(bus)`` returns an SMBus-like object (default: smbus2.SMBus).
        pace: called before each read to keep the rate (default: sleeps to ``rate_hz``).
        backoff: retry timing after read errors.
    """

    def __init__(
        self,
        pre: Preprocessing,
        *,
        bus: int = 1,
        addr: int = 0x68,
        rate_hz: float,
        bus_opener: Callable[[int], Any] | None = None,
        pace: Callable[[], None] | None = None,
        backoff: Backoff = Backoff(),
    ) -> None:
        super().__init__()
        self.columns = imu_columns(pre)
        if bus_opener is None and not Path(f"/dev/i2c-{bus}").exists():
            raise BadInputError(
                f"I2C bus /dev/i2c-{bus} does not exist (enable I2C with raspi-config, or pick "
                f"another bus with ?bus=N)"
            )
        if bus_opener is None:
            require("smbus2", extra="i2c")
        self.bus, self.addr, self.rate_hz = bus, addr, rate_hz
        self.bus_opener = bus_opener or _open_smbus
        self.pace = pace
        self.backoff = backoff

    def __iter__(self) -> Iterator[Item]:
        pace = self.pace or _Paced(self.rate_hz).wait
        retry = _Retry(self.backoff, self, f"MPU-6050 at {self.addr:#04x} on bus {self.bus}")
        handle = None
        try:
            while not self.stop.is_set():
                pace()
                try:
                    if handle is None:
                        handle = self._wake()
                    raw = handle.read_i2c_block_data(self.addr, MPU6050_ACCEL_XOUT_H, 14)
                except OSError as exc:
                    if handle is not None:
                        _close(handle)
                    handle = None  # reopen and wake: a brown-out puts the chip back to sleep
                    retry.failed(exc)
                    continue
                retry.succeeded()
                yield Item(mpu6050_sample(raw)[self.columns], False)
        finally:
            if handle is not None:
                _close(handle)

    def _wake(self) -> Any:
        handle = self.bus_opener(self.bus)
        try:
            handle.write_byte_data(self.addr, MPU6050_PWR_MGMT_1, 0)  # it powers up asleep
        except OSError:
            _close(handle)
            raise
        return handle


def imu_columns(pre: Preprocessing) -> list[int]:
    """Indexes into ``IMU_CHANNELS`` in the model's channel order.

    Raises:
        BadInputError: the model is not a sensor model or wants channels the IMU lacks.
    """
    if not pre.channels:
        raise BadInputError(f"the model takes {pre.kind} input, not IMU samples")
    names = [c.strip().lower() for c in pre.channels]
    missing = [c for c, n in zip(pre.channels, names, strict=True) if n not in IMU_CHANNELS]
    if missing:
        raise BadInputError(
            f"the model wants channel(s) {missing} that an MPU-6050 does not have; it gives "
            f"{list(IMU_CHANNELS)}"
        )
    return [IMU_CHANNELS.index(n) for n in names]


def mpu6050_sample(raw: list[int] | bytes) -> np.ndarray:
    """Converts the 14 bytes from ACCEL_XOUT_H into ``ax..gz`` in g and deg/s.

    The block is seven big-endian signed 16-bit words: accel x/y/z, temperature, gyro x/y/z.
    """
    if len(raw) != 14:
        raise OSError(f"short I2C read: {len(raw)} of 14 bytes")
    words = np.frombuffer(bytes(raw), dtype=">i2").astype(np.float64)
    accel = words[0:3] / MPU6050_ACCEL_LSB_PER_G
    gyro = words[4:7] / MPU6050_GYRO_LSB_PER_DPS
    return np.concatenate([accel, gyro])


def _open_smbus(bus: int) -> Any:
    smbus2 = require("smbus2", extra="i2c")
    return smbus2.SMBus(bus)


# --------------------------------------------------------------------------- camera


class Camera(Source):
    """Frames from a camera, converted and resized exactly as training resized images.

    Training used Pillow's ``convert(mode).resize(size, BILINEAR)`` (a stretch, no crop), so
    frames go through the same two calls and the model sees the same kind of input.

    Args:
        index: the camera number.
        pre: the model's preprocessing (an image model).
        rate_hz: frames per second (0 = as fast as the camera delivers).
        opener: ``opener(index)`` returns an object with ``read() -> (ok, BGR array)`` and
            ``release()`` (default: picamera2 when installed, else OpenCV).
        backoff: retry timing after failed grabs.
    """

    def __init__(
        self,
        index: int,
        pre: Preprocessing,
        *,
        rate_hz: float = 0.0,
        opener: Callable[[int], Any] | None = None,
        backoff: Backoff = Backoff(),
    ) -> None:
        super().__init__()
        if pre.kind != DataKind.IMAGE or len(pre.input_shape) != 3:
            raise BadInputError(f"the model takes {pre.kind} input, not camera frames")
        self.index, self.pre, self.rate_hz = index, pre, rate_hz
        self.opener = opener or open_camera
        self.backoff = backoff

    def __iter__(self) -> Iterator[Item]:
        image = require("PIL.Image", extra="camera", package="pillow")
        pace = _Paced(self.rate_hz)
        retry = _Retry(self.backoff, self, f"camera {self.index}")
        capture = None
        try:
            while not self.stop.is_set():
                pace.wait()
                frame, capture = self._grab(capture, retry)
                if frame is not None:
                    yield Item(frame_to_input(frame, self.pre, image), True)
        finally:
            if capture is not None:
                _close(capture, "release")

    def _grab(self, capture: Any, retry: _Retry) -> tuple[np.ndarray | None, Any]:
        """One frame (or None after a counted failure) and the capture to use next."""
        try:
            if capture is None:
                capture = self.opener(self.index)
            ok, frame = capture.read()
            if not ok or frame is None:
                raise OSError("grab failed")
        except OSError as exc:
            # A few bad grabs are normal; many in a row mean the device went away.
            if capture is not None and retry.failures + 1 >= CAMERA_REOPEN_AFTER:
                _close(capture, "release")
                capture = None
            retry.failed(exc)
            return None, capture
        retry.succeeded()
        return frame, capture


def frame_to_input(frame: np.ndarray, pre: Preprocessing, image: Any) -> np.ndarray:
    """A BGR (or grey) uint8 frame as the model's raw uint8 input, resized like training.

    Args:
        frame: an HxWx3 BGR frame (OpenCV's order) or an HxW grey frame.
        pre: the model's preprocessing (``input_shape`` is ``(height, width, channels)``).
        image: the ``PIL.Image`` module.
    """
    height, width, channels = pre.input_shape
    frame = np.asarray(frame, dtype=np.uint8)
    if frame.ndim == 3:
        frame = np.ascontiguousarray(frame[..., 2::-1])  # BGR(A) -> RGB
    mode = "L" if channels == 1 else "RGB"
    img = image.fromarray(frame).convert(mode).resize((width, height), image.Resampling.BILINEAR)
    return np.asarray(img, dtype=np.uint8).reshape(height, width, channels)


def open_camera(index: int) -> Any:
    """picamera2 on a Pi (when installed), else ``cv2.VideoCapture(index)``.

    Raises:
        BadInputError: OpenCV cannot open the camera.
        MissingDependencyError: neither picamera2 nor OpenCV is installed.
    """
    try:
        picamera2 = require("picamera2", extra="camera")
    except Exception:  # noqa: BLE001 - missing, or present but unusable off a Pi: use OpenCV
        picamera2 = None
    if picamera2 is not None:
        try:
            return _PiCamera(picamera2.Picamera2(index))
        except Exception as exc:  # noqa: BLE001 - no CSI camera (e.g. a USB webcam): try OpenCV
            log.info("picamera2 cannot open camera %d (%s); trying OpenCV", index, exc)
    cv2 = require("cv2", extra="camera", package="opencv-python-headless")
    capture = cv2.VideoCapture(index)
    if not capture.isOpened():
        capture.release()
        raise BadInputError(f"camera {index} could not be opened")
    return capture


class _PiCamera:
    """picamera2 behind OpenCV's ``read()``/``release()`` interface."""

    def __init__(self, camera: Any) -> None:
        # picamera2's "RGB888" stores pixels as [B, G, R], the same order OpenCV gives.
        config = camera.create_preview_configuration(
            main={"format": "RGB888", "size": CAMERA_CAPTURE_SIZE}
        )
        camera.configure(config)
        camera.start()
        self.camera = camera

    def read(self) -> tuple[bool, np.ndarray | None]:
        try:
            return True, self.camera.capture_array()
        except RuntimeError as exc:  # picamera2 raises RuntimeError on capture timeouts
            raise OSError(str(exc)) from exc

    def release(self) -> None:
        self.camera.stop()
        self.camera.close()
