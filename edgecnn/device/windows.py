"""Cutting a stream of samples into the windows a model was trained on."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from edgecnn.core.errors import BadInputError

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

    from edgecnn.core.preprocess import Preprocessing
    from edgecnn.device.io.base import Item


class Windower:
    """A ring buffer that yields a window of ``window`` samples every ``hop`` samples.

    The first window is complete after ``window`` samples, then one every ``hop``, which is
    how training cut each recording (windows start at 0, hop, 2*hop, ...).

    Each sample is written twice, at ``i`` and ``i + window`` of a ``2 * window`` buffer, so
    the latest window is always one contiguous slice: a sample costs O(channels), and the
    window is copied only when one is due (``np.roll`` copied all of it every sample).

    Args:
        window: samples per window.
        hop: samples between window starts.
        channels: values per sample.
        dtype: the buffer's (and the windows') dtype; audio uses float32 as training does.
    """

    def __init__(
        self, *, window: int, hop: int, channels: int, dtype: DTypeLike = np.float64
    ) -> None:
        if window < 1 or hop < 1 or channels < 1:
            raise BadInputError(
                f"window ({window}), hop ({hop}) and channels ({channels}) must be positive"
            )
        self.window, self.hop, self.channels = window, hop, channels
        self._buffer = np.zeros((2 * window, channels), dtype=dtype)
        self._pos = 0  # where the next sample goes, in [0, window)
        self._due = window  # samples still to come before the next window

    def reset(self) -> None:
        """Forgets buffered samples (a new recording starts)."""
        self._due = self.window

    def push(self, sample: np.ndarray) -> np.ndarray | None:
        """Adds one sample (C values); returns a new window when one is due, else None."""
        pos, buffer = self._pos, self._buffer
        buffer[pos] = sample
        buffer[pos + self.window] = sample
        pos += 1
        self._pos = 0 if pos == self.window else pos
        self._due -= 1
        if self._due:
            return None
        self._due = self.hop
        return buffer[self._pos : self._pos + self.window].copy()

    def push_block(self, block: np.ndarray) -> list[np.ndarray]:
        """Adds ``n`` samples at once, shaped (n, C); returns the windows due among them.

        The same windows, in the same places, as ``n`` calls of :meth:`push`; the samples
        are written with a few slice assignments per window, not one call per sample.
        """
        block = np.asarray(block)
        if block.ndim != 2 or block.shape[1] != self.channels:
            raise BadInputError(
                f"a block of samples must be shaped (n, {self.channels}); got {block.shape}"
            )
        windows, start, n = [], 0, len(block)
        while n - start >= self._due:
            end = start + self._due
            self._write(block[start:end])
            windows.append(self._buffer[self._pos : self._pos + self.window].copy())
            start, self._due = end, self.hop
        if start < n:
            self._write(block[start:])
            self._due -= n - start
        return windows

    def _write(self, chunk: np.ndarray) -> None:
        """Writes consecutive samples into both halves; only the last ``window`` matter."""
        size, window = len(chunk), self.window
        kept = chunk[-window:]
        at = (self._pos + size - len(kept)) % window
        first = min(len(kept), window - at)  # up to the end of the first half
        self._buffer[at : at + first] = kept[:first]
        self._buffer[at + window : at + window + first] = kept[:first]
        rest = len(kept) - first  # wraps round to the start
        if rest:
            self._buffer[:rest] = kept[first:]
            self._buffer[window : window + rest] = kept[first:]
        self._pos = (self._pos + size) % window


def windower_for(pre: Preprocessing) -> Windower | None:
    """The model's windower: sensor channels, or one channel of audio; None for whole inputs."""
    if pre.audio is not None:
        return Windower(window=pre.window, hop=pre.hop, channels=1, dtype=np.float32)
    if pre.channels:
        return Windower(window=pre.window, hop=pre.hop, channels=len(pre.channels))
    return None


def cut_windows(
    items: Iterable[Item], pre: Preprocessing
) -> Iterator[tuple[np.ndarray, str | None]]:
    """Each model input of a source and its true label, as ``edgecnn run`` sees them.

    Whole windows and images pass as they come; sensor and audio samples are cut by a
    :class:`Windower` (reset at each new recording). A window of single samples takes the
    most common label of its samples (None when the source has none); the windows of a
    block of samples take the block's label.
    """
    windower = windower_for(pre)
    truths: deque[str | None] = deque(maxlen=windower.window if windower else 1)
    for item in items:
        if item.is_window or windower is None:
            yield item.values, item.label
            continue
        if item.new_recording:
            windower.reset()
            truths.clear()
        if item.block:
            for window in windower.push_block(item.values):
                yield window, item.label
            continue
        truths.append(item.label)
        window = windower.push(item.values)
        if window is not None:
            yield window, _majority(truths)


def _majority(truths: deque[str | None]) -> str | None:
    """The most common true label of a window's samples."""
    return Counter(truths).most_common(1)[0][0]
