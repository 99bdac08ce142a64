"""Accelerometer and gyro samples from an MPU-6050 IMU over I2C.

smbus2 is imported inside the function that needs it, so ``edgecnn run`` on a replay file
never needs it. Read errors are retried with a bounded backoff.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from edgecnn.core.errors import BadInputError
from edgecnn.core.optional import require
from edgecnn.core.preprocess import Preprocessing
from edgecnn.device.io.base import Item, Paced, Source
from edgecnn.device.io.retry import DEFAULT_BACKOFF, Backoff, Retry, close_quietly

# MPU-6050 registers and default full-scale sensitivities (datasheet, section 4).
MPU6050_PWR_MGMT_1 = 0x6B
MPU6050_ACCEL_XOUT_H = 0x3B
MPU6050_ACCEL_LSB_PER_G = 16384.0  # +-2 g
MPU6050_GYRO_LSB_PER_DPS = 131.0  # +-250 deg/s
IMU_CHANNELS = ("ax", "ay", "az", "gx", "gy", "gz")


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
        backoff: Backoff = DEFAULT_BACKOFF,
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
        pace = self.pace or Paced(self.rate_hz, self.stop).wait
        retry = Retry(self.backoff, self, f"MPU-6050 at {self.addr:#04x} on bus {self.bus}")
        handle = None
        try:
            while not self.stop.is_set():
                pace()
                if self.stop.is_set():  # a stop request ended the wait
                    break
                try:
                    if handle is None:
                        handle = self._wake()
                    raw = handle.read_i2c_block_data(self.addr, MPU6050_ACCEL_XOUT_H, 14)
                except OSError as exc:
                    if handle is not None:
                        close_quietly(handle)
                    handle = None  # reopen and wake: a brown-out puts the chip back to sleep
                    retry.failed(exc)
                    continue
                retry.succeeded()
                yield Item(mpu6050_sample(raw)[self.columns], False)
        finally:
            if handle is not None:
                close_quietly(handle)

    def _wake(self) -> Any:
        handle = self.bus_opener(self.bus)
        try:
            handle.write_byte_data(self.addr, MPU6050_PWR_MGMT_1, 0)  # it powers up asleep
        except OSError:
            close_quietly(handle)
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
