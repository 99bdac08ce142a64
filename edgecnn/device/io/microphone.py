"""The live microphone: mono 16-bit audio read from ALSA's ``arecord``.

arecord (alsa-utils), not ``sounddevice`` and PortAudio: arecord ships with Raspberry Pi OS,
so the device needs no compiled Python package (and no wheel for its architecture); raw
16-bit PCM on its stdout is all we read. Like the recorded audio sources (``audio``) it
yields blocks of float32 samples at the model's rate. Device side: stdlib and numpy only.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import shutil
import subprocess
import tempfile
from collections.abc import Iterator

import numpy as np

from edgecnn.core.errors import BadInputError, MissingDependencyError
from edgecnn.core.preprocess import Preprocessing
from edgecnn.device.io.base import STOP_POLL_S, Item, Source, front_rate
from edgecnn.device.io.retry import DEFAULT_BACKOFF, Backoff, Retry

log = logging.getLogger(__name__)

ARECORD_HINT = "sudo apt-get install alsa-utils"
# What arecord (ALSA) says when the device named does not exist: "audio open error: No such
# file or directory" (hw:9, an unknown PCM name), "No such device" (plughw:CARD=Nope), with
# "Unknown PCM x" or "Cannot get card index for 9" / "cannot find card '0'" before it.
MISSING_DEVICE = ("no such file or directory", "no such device", "unknown pcm",
                  "cannot get card index", "cannot find card")  # fmt: skip
STOP_WAIT_S = 1.0  # how long a stopped arecord may take to exit before it is killed


class Microphone(Source):
    """Live mono 16-bit audio from an ALSA device, read from ``arecord``'s stdout.

    A device missing from the start (a wrong name) is bad input: one line, no retry. A
    device that is busy or fails (arecord exits non-zero), or that vanishes after having
    delivered audio (a USB microphone unplugged), is retried with a bounded backoff and
    counted in ``stats.errors``; after each restart the ring buffer starts afresh
    (``new_recording``). A stop request kills arecord at once.

    Args:
        device: the ALSA device, e.g. ``default``, ``hw:1,0`` or ``plughw:CARD=Mic``.
        pre: the model's preprocessing (an audio model).
        rate_hz: the capture rate; it must be the model's (None = the model's).
        command: the arecord executable.
        backoff: retry timing.
    """

    def __init__(
        self,
        device: str,
        pre: Preprocessing,
        *,
        rate_hz: float | None = None,
        command: str = "arecord",
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        super().__init__()
        rate = front_rate(pre, f"microphone {device} gives audio")
        if rate_hz and rate_hz != rate:
            raise BadInputError(
                f"microphone rate {rate_hz:g} Hz differs from the model's {rate} Hz; its front "
                f"end needs its own rate: use ?rate={rate} or leave the rate out"
            )
        self.executable = shutil.which(command)
        if self.executable is None:
            raise MissingDependencyError(
                f"recording from a microphone needs arecord ({command!r} is not on PATH): "
                f"{ARECORD_HINT}"
            )
        self.device, self.rate, self.backoff = device, rate, backoff
        self.block_bytes = 2 * pre.hop

    @property
    def argv(self) -> list[str]:
        """The arecord command line: raw signed 16-bit little-endian mono at the model rate."""
        return [self.executable, "-q", "-D", self.device, "-t", "raw", "-f", "S16_LE",
                "-c", "1", "-r", str(self.rate)]  # fmt: skip

    def __iter__(self) -> Iterator[Item]:
        retry = Retry(self.backoff, self, f"microphone {self.device}")
        delivered = False  # once the device has worked, its vanishing is retried
        while not self.stop.is_set():
            with tempfile.TemporaryFile() as errors:  # a file: a pipe could fill and block it
                try:
                    proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=errors)
                except OSError as exc:
                    retry.failed(exc)
                    continue
                closed_by_arecord = False
                try:
                    for item in self._blocks(proc, retry):
                        delivered = True
                        yield item
                    closed_by_arecord = not self.stop.is_set()
                finally:
                    _end(proc, exit_wait_s=STOP_WAIT_S if closed_by_arecord else 0.0)
                if self.stop.is_set():
                    return
                if proc.returncode == 0:  # arecord ended on its own: the stream is over
                    log.warning("microphone %s: arecord ended", self.device)
                    return
                said = _stderr(errors)
                if not delivered and _missing(said):
                    raise BadInputError(
                        f"microphone {self.device} not found ({_last_line(said)}); list the "
                        "capture devices with `arecord -l` and pass one, e.g. mic:plughw:1,0"
                    )
                retry.failed(OSError(f"arecord exited with code {proc.returncode}: "
                                     f"{_last_line(said)}"))

    def _blocks(self, proc: subprocess.Popen, retry: Retry) -> Iterator[Item]:
        """Blocks of whole samples until arecord's stdout closes or a stop request."""
        fd, pending, first = proc.stdout.fileno(), b"", True
        while not self.stop.is_set():
            ready, _, _ = select.select([fd], [], [], STOP_POLL_S)
            if not ready:
                continue
            chunk = os.read(fd, self.block_bytes - len(pending))
            if not chunk:
                return
            pending += chunk
            whole = len(pending) - len(pending) % 2
            if not whole:
                continue
            samples = np.frombuffer(pending[:whole], "<i2").astype(np.float32) / 32768.0
            pending = pending[whole:]
            if first:
                retry.succeeded()
            yield Item(samples.reshape(-1, 1), False, new_recording=first, block=True)
            first = False


def _end(proc: subprocess.Popen, *, exit_wait_s: float = 0.0) -> None:
    """Stops arecord (if it still runs) and reaps it.

    Its stdout is closed first: arecord blocked writing to a full pipe ignores SIGTERM
    until that write fails, which closing the pipe makes happen at once. When arecord closed
    its stdout itself, it is given ``exit_wait_s`` to exit with its own code: terminating it
    in the moment between the two would turn a clean end into a failure to retry.
    """
    proc.stdout.close()
    if exit_wait_s:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=exit_wait_s)
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait()


def _stderr(errors) -> str:
    """All arecord wrote on stderr."""
    errors.seek(0)
    return errors.read().decode(errors="replace")


def _last_line(text: str) -> str:
    """The last non-empty line (arecord's own verdict after ALSA's details)."""
    lines = [line.strip() for line in text.splitlines()]
    return next((line for line in reversed(lines) if line), "no message")


def _missing(said: str) -> bool:
    """Whether arecord's stderr says the device does not exist (busy is not missing)."""
    text = said.lower()
    return "busy" not in text and any(mark in text for mark in MISSING_DEVICE)
