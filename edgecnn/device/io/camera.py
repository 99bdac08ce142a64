"""Frames from a camera (picamera2 on a Pi, else OpenCV), resized exactly as training did.

picamera2, OpenCV and Pillow are imported inside the function that needs them, so
``edgecnn run`` on a replay file never needs them. Failed grabs are retried with a bounded
backoff, and the camera is reopened after several in a row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from edgecnn.core.errors import BadInputError
from edgecnn.core.optional import require
from edgecnn.core.preprocess import DataKind, Preprocessing
from edgecnn.device.io.base import Item, Paced, Source
from edgecnn.device.io.retry import DEFAULT_BACKOFF, Backoff, Retry, close_quietly

log = logging.getLogger(__name__)

CAMERA_CAPTURE_SIZE = (640, 480)  # grab at a common size, then resize like training did
CAMERA_REOPEN_AFTER = 5  # consecutive failed grabs before the camera is reopened


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
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        super().__init__()
        if pre.kind != DataKind.IMAGE or len(pre.input_shape) != 3:
            raise BadInputError(f"the model takes {pre.kind} input, not camera frames")
        self.index, self.pre, self.rate_hz = index, pre, rate_hz
        self.opener = opener or open_camera
        self.backoff = backoff

    def __iter__(self) -> Iterator[Item]:
        image = require("PIL.Image", extra="camera", package="pillow")
        pace = Paced(self.rate_hz, self.stop)
        retry = Retry(self.backoff, self, f"camera {self.index}")
        capture = None
        try:
            while pace.wait():  # False once a stop request came
                frame, capture = self._grab(capture, retry)
                if frame is not None:
                    yield Item(frame_to_input(frame, self.pre, image), True)
        finally:
            if capture is not None:
                close_quietly(capture, "release")

    def _grab(self, capture: Any, retry: Retry) -> tuple[np.ndarray | None, Any]:
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
                close_quietly(capture, "release")
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
