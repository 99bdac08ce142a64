"""Comma-separated sensor samples from a serial device, e.g. an Arduino on /dev/ttyACM0.

pyserial is imported inside the function that needs it, so ``edgecnn run`` on a replay file
never needs it. A device that errors or disconnects is reconnected with a bounded backoff.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from edgecnn.core.errors import BadInputError
from edgecnn.core.optional import require
from edgecnn.core.preprocess import Preprocessing
from edgecnn.device.io.base import MAX_LINE_BYTES, STOP_POLL_S, Item, Source, parse_row
from edgecnn.device.io.retry import DEFAULT_BACKOFF, Backoff, Retry, close_quietly

log = logging.getLogger(__name__)

# pyserial's read timeout: a partial line waits in ``pending``, so a short one costs
# nothing and a stop request is seen within it.
READ_TIMEOUT_S = 4 * STOP_POLL_S


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
            (default: ``serial.Serial`` with a ``READ_TIMEOUT_S`` read timeout).
        backoff: reconnect timing.
    """

    def __init__(
        self,
        port: str,
        pre: Preprocessing,
        *,
        baud: int = 115200,
        opener: Callable[[str, int], Any] | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        super().__init__()
        if not pre.channels:
            raise BadInputError(f"the model takes {pre.kind} input, not serial sensor lines")
        if opener is None and not Path(port).exists():
            raise BadInputError(f"serial device {port} does not exist (is the board plugged in?)")
        if opener is None and not stat.S_ISCHR(Path(port).stat().st_mode):
            raise _not_a_tty(port)
        if opener is None:  # fail at start, not at the first read, when pyserial is missing
            require("serial", extra="serial", package="pyserial")
        self.port, self.pre, self.baud = port, pre, baud
        self.opener = opener or _open_serial
        self.backoff = backoff

    def __iter__(self) -> Iterator[Item]:
        columns = list(range(len(self.pre.channels or ())))
        for line in self._lines():
            # The rule of every text source (base.parse_row): a sketch that prints an extra
            # field is dropped and counted, and the first such line is logged.
            values = parse_row(line.split(","), columns, self.stats)
            if values is not None:
                yield Item(values, False)

    def _lines(self) -> Iterator[str]:
        """Decoded, stripped, non-empty lines, reconnecting whenever the device fails."""
        retry = Retry(self.backoff, self, f"serial device {self.port}")
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
                    close_quietly(handle)
                    handle = None
                    retry.failed(exc)
                    continue
                # A read timeout returns a partial line: keep it until its newline arrives.
                pending += chunk
                if len(pending) > MAX_LINE_BYTES:  # no newline ever: a wrong baud rate, say
                    self.stats.drop(f"{self.port}: no newline in {MAX_LINE_BYTES} bytes")
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
                close_quietly(handle)

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
            if self.opener is _open_serial and not _is_tty(self.port):
                raise _not_a_tty(self.port) from None  # no retry can make it one
            self.stats.errors += 1
            log.warning("serial device %s: %s; will retry", self.port, exc)
            return None


def _is_tty(port: str) -> bool:
    """Whether ``port`` is a terminal device (asked without becoming its controlling tty)."""
    try:
        fd = os.open(port, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError:
        return True  # cannot tell: a serial port that is away for now is retried
    try:
        return os.isatty(fd)
    finally:
        os.close(fd)


def _not_a_tty(port: str) -> BadInputError:
    return BadInputError(
        f"{port} is not a serial device (not a terminal); give the board's port, "
        "e.g. serial:/dev/ttyACM0 or serial:/dev/ttyUSB0"
    )


def _open_serial(port: str, baud: int) -> Any:
    serial = require("serial", extra="serial", package="pyserial")
    try:
        return serial.Serial(port, baud, timeout=READ_TIMEOUT_S)
    except serial.SerialException as exc:
        # pyserial wraps EACCES; unwrap it so the caller can tell permissions from hiccups.
        if isinstance(exc.__context__, PermissionError) or "Permission denied" in str(exc):
            raise PermissionError(str(exc)) from exc
        raise
