"""Cutting a stream of samples into the windows a model was trained on."""

from __future__ import annotations

import numpy as np

from edgecnn.errors import BadInputError


class Windower:
    """A ring buffer that yields a window of ``window`` samples every ``hop`` samples.

    The first window is complete after ``window`` samples, then one every ``hop``, which is
    how training cut each recording (windows start at 0, hop, 2*hop, ...).
    """

    def __init__(self, *, window: int, hop: int, channels: int) -> None:
        if window < 1 or hop < 1 or channels < 1:
            raise BadInputError(
                f"window ({window}), hop ({hop}) and channels ({channels}) must be positive"
            )
        self.window, self.hop, self.channels = window, hop, channels
        self._buffer = np.zeros((window, channels), dtype=np.float64)
        self._filled = 0
        self._since_last = 0

    def reset(self) -> None:
        """Forgets buffered samples (a new recording starts)."""
        self._filled = 0
        self._since_last = 0

    def push(self, sample: np.ndarray) -> np.ndarray | None:
        """Adds one sample (C values); returns a new window when one is due, else None."""
        self._buffer = np.roll(self._buffer, -1, axis=0)
        self._buffer[-1] = sample
        self._filled = min(self._filled + 1, self.window)
        if self._filled < self.window:
            return None
        self._since_last += 1
        if self._since_last == 1 or self._since_last > self.hop:
            self._since_last = 1
            return self._buffer.copy()
        return None
