"""Riding out a flaky device: bounded exponential backoff, failure counting, quiet closing.

Shared by the live sources (``serialport``, ``imu``, ``camera``). A device that errors or
disconnects is retried and counted in ``stats.errors``; the source keeps running, because a
service on a Pi should ride out a loose cable rather than exit.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edgecnn.core.errors import RunFailedError
from edgecnn.device.io.base import Source

log = logging.getLogger(__name__)


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


# Frozen, so one instance can safely be every device source's default; a Backoff() call in
# each signature would be flagged (B008), since linters cannot see it is immutable there.
DEFAULT_BACKOFF = Backoff()


class Retry:
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


def close_quietly(handle: Any, method: str = "close") -> None:
    """Closes a device handle, ignoring errors (it is usually already broken)."""
    # A broken handle may fail in any way while closing; it is being dropped anyway.
    with contextlib.suppress(Exception):
        getattr(handle, method)()
