"""Live sources: an Arduino over serial, an MPU-6050 over I2C, a camera.

Each lives in its own module (``serialport``, ``imu``, ``camera``; their shared retry logic in
``retry``); this module keeps the names importable from ``edgecnn.device.io.devices``.
To monkeypatch one (e.g. ``open_camera``), patch the module that defines it: rebinding a name
here does not change what the defining module calls.
"""

from __future__ import annotations

from edgecnn.device.io.camera import (
    CAMERA_CAPTURE_SIZE,
    CAMERA_REOPEN_AFTER,
    Camera,
    frame_to_input,
    open_camera,
)
from edgecnn.device.io.imu import (
    IMU_CHANNELS,
    MPU6050_ACCEL_LSB_PER_G,
    MPU6050_ACCEL_XOUT_H,
    MPU6050_GYRO_LSB_PER_DPS,
    MPU6050_PWR_MGMT_1,
    Mpu6050,
    imu_columns,
    mpu6050_sample,
)
from edgecnn.device.io.retry import Backoff
from edgecnn.device.io.serialport import MAX_LINE_BYTES, SerialLines

__all__ = [
    "CAMERA_CAPTURE_SIZE",
    "CAMERA_REOPEN_AFTER",
    "IMU_CHANNELS",
    "MAX_LINE_BYTES",
    "MPU6050_ACCEL_LSB_PER_G",
    "MPU6050_ACCEL_XOUT_H",
    "MPU6050_GYRO_LSB_PER_DPS",
    "MPU6050_PWR_MGMT_1",
    "Backoff",
    "Camera",
    "Mpu6050",
    "SerialLines",
    "frame_to_input",
    "imu_columns",
    "mpu6050_sample",
    "open_camera",
]
