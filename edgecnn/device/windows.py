"""Cutting a stream of samples into the windows a model was trained on."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from edgecnn.core.errors import BadInputError

if TYPE_CHECKING:
    from edgecnn.core.preprocess import Preprocessing
    from edgecnn.device.io.sources import Item


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


def cut_windows(
    items: Iterable[Item], pre: Preprocessing
) -> Iterator[tuple[np.ndarray, str | None]]:
    """Each model input of a source and its true label, as ``edgecnn run`` sees them.

    Whole windows and images pass as they come; sensor samples are cut by a
    :class:`Windower` (reset at each new recording) and a window's label is the most
    common label of its samples (None when the source has none).
    """
    windower = None
    if pre.channels:
        windower = Windower(window=pre.window, hop=pre.hop, channels=len(pre.channels))
    truths: deque[str | None] = deque(maxlen=windower.window if windower else 1)
    for item in items:
        if item.is_window or windower is None:
            yield item.values, item.label
            continue
        if item.new_recording:
            windower.reset()
            truths.clear()
        truths.append(item.label)
        window = windower.push(item.values)
        if window is not None:
            yield window, _majority(truths)


def _majority(truths: deque[str | None]) -> str | None:
    """The most common true label of a window's samples."""
    return Counter(truths).most_common(1)[0][0]
