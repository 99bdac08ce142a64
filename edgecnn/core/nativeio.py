"""Capturing or muting what native code writes straight to file descriptors 1 and 2."""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import tempfile
from collections.abc import Iterator


class Captured:
    """Text written to a file descriptor inside :func:`capture_fd`."""

    text: str = ""


@contextlib.contextmanager
def capture_fd(fd: int) -> Iterator[Captured]:
    """Redirects ``fd`` (1 or 2) to a temp file and yields what was written, at exit.

    Native libraries (TFLite Micro, the TFLite converter) print with C stdio, which
    Python's ``sys.stdout`` redirection cannot catch.
    """
    captured = Captured()
    stream = sys.stdout if fd == 1 else sys.stderr
    with tempfile.TemporaryFile() as sink:
        stream.flush()
        saved = os.dup(fd)
        os.dup2(sink.fileno(), fd)
        try:
            yield captured
        finally:
            with contextlib.suppress(Exception):
                stream.flush()
            _flush_c_stdio()
            os.dup2(saved, fd)
            os.close(saved)
            sink.seek(0)
            captured.text = sink.read().decode("utf-8", errors="replace")


def _flush_c_stdio() -> None:
    """Flushes C stdio buffers, or buffered native output would land after the restore."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).fflush(None)


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silences what native code writes to fd 2 (TensorFlow's absl lines before log init).

    TF_CPP_MIN_LOG_LEVEL cannot mute those, and they bury the one line a user needs.
    Python exceptions are unaffected: they are raised after stderr is restored.
    """
    try:
        saved = os.dup(2)
    except OSError:  # no real fd 2 (e.g. some embedded interpreters): nothing to mute
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            sys.stderr.flush()
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
