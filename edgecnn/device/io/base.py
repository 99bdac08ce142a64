"""Base classes of sources and sinks, and the small helpers the concrete ones share.

Every concrete module (sources, serialport, imu, camera, sinks, netsinks) imports this one
and it imports none of them, so the dependency runs one way only. Device side: stdlib and
numpy only.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np


class Item(NamedTuple):
    """One sample (``is_window`` False) or one whole window/image (``is_window`` True).

    A named tuple: made once per sample, and a frozen dataclass costs a microsecond more.
    """

    values: np.ndarray
    is_window: bool
    label: str | None = None
    new_recording: bool = False


@dataclass
class SourceStats:
    """Counters a source keeps while it runs."""

    dropped: int = 0
    errors: int = 0
    notes: list[str] = field(default_factory=list)


class Source:
    """Base class: iterate to get items; ``stats`` counts drops.

    ``stop`` is set to ask a live source to end its iteration soon, even while it waits for
    a quiet or disconnected device (the run loop only sees a signal when an item arrives).
    """

    def __init__(self) -> None:
        self.stats = SourceStats()
        self.stop = threading.Event()

    def __iter__(self) -> Iterator[Item]:
        raise NotImplementedError


class Paced:
    """Sleeps so that items come out at ``rate_hz`` (no sleeping at 0)."""

    def __init__(self, rate_hz: float) -> None:
        self.period = 1.0 / rate_hz if rate_hz > 0 else 0.0
        self.next = time.monotonic()

    def wait(self) -> None:
        """Sleeps until the next item is due."""
        if self.period:
            self.next += self.period
            delay = self.next - time.monotonic()
            if delay > 0:
                time.sleep(delay)


def parse_row(row: list[str], columns: list[int], stats: SourceStats) -> np.ndarray | None:
    """The channel values of one row, or None (counted as dropped) when garbled."""
    try:
        values = np.array([float(row[i]) for i in columns])
    except (ValueError, IndexError):
        stats.dropped += 1
        return None
    if not all(math.isfinite(v) for v in values):
        stats.dropped += 1
        return None
    return values


class Sink:
    """Receives one result dict per emitted window."""

    def write(self, result: dict) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Flushes and releases the sink."""
