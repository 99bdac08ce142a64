"""Text lines from a stream (stdin) that a stop request can interrupt while no line comes.

A plain ``for line in sys.stdin`` blocks inside ``read()``, and Python resumes that read
after a signal handler ran, so SIGTERM would wait for the next line, possibly forever.
Here the file descriptor is polled with ``select`` and read with ``os.read``. Device side:
stdlib only.
"""

from __future__ import annotations

import io
import os
import select
from collections.abc import Iterator
from typing import IO

from edgecnn.device.io.base import MAX_LINE_BYTES, STOP_POLL_S, SourceStats, StopFlag

READ_BYTES = 65536


def stream_lines(stream: IO[str], stop: StopFlag, stats: SourceStats) -> Iterator[str]:
    """The lines of ``stream`` (without their newline) until it ends or ``stop`` is set.

    Streams without a file descriptor (a test's ``StringIO``) are iterated as they are.
    A line longer than ``MAX_LINE_BYTES`` is dropped (counted in ``stats``).
    """
    fd = _fileno(stream)
    if fd is None:
        for line in stream:
            if stop.is_set():
                return
            yield line.rstrip("\r\n")
        return
    yield from _fd_lines(fd, stop, stats)


def _fd_lines(fd: int, stop: StopFlag, stats: SourceStats) -> Iterator[str]:
    pending, skipping = b"", False
    while not stop.is_set():
        ready, _, _ = select.select([fd], [], [], STOP_POLL_S)
        if not ready:
            continue
        chunk = os.read(fd, READ_BYTES)
        if not chunk:  # end of input
            break
        *lines, pending = (pending + chunk).split(b"\n")
        if skipping:  # the rest of an over-long line, already counted
            if not lines:
                pending = b""
                continue
            lines, skipping = lines[1:], False
        if len(pending) > MAX_LINE_BYTES:  # no newline in sight: not a sample
            stats.drop(f"a line of more than {MAX_LINE_BYTES} bytes")
            pending, skipping = b"", True
        for line in lines:
            if stop.is_set():
                return
            yield line.decode("utf-8", errors="replace").rstrip("\r")
    if pending and not stop.is_set():  # the last line may lack its newline
        yield pending.decode("utf-8", errors="replace").rstrip("\r")


def _fileno(stream: IO[str]) -> int | None:
    """The stream's descriptor when ``select`` can poll it (POSIX), else None."""
    if os.name != "posix":
        return None
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None
