"""Audio sources: a replayed WAV file, a folder of labelled WAV clips, a live microphone.

Each yields blocks of mono float32 samples at the model's rate (``Item.block``), which the
loop's ring buffer cuts into one window every ``hop`` samples, as training cut the clips.

The microphone is read through ALSA's ``arecord`` (alsa-utils), not ``sounddevice`` and
PortAudio: arecord ships with Raspberry Pi OS, so the device needs no compiled Python
package (and no wheel for its architecture); raw 16-bit PCM on its stdout is all we read.
Device side: stdlib and numpy only.
"""

from __future__ import annotations

import logging
import os
import select
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from edgecnn.core.errors import BadInputError, MissingDependencyError
from edgecnn.core.preprocess import Preprocessing
from edgecnn.core.wav import BACKGROUND_NOISE_FOLDER, read_wav
from edgecnn.device.io.base import STOP_POLL_S, Item, Paced, Source
from edgecnn.device.io.retry import DEFAULT_BACKOFF, Backoff, Retry

log = logging.getLogger(__name__)

ARECORD_HINT = "sudo apt-get install alsa-utils"
# What arecord (ALSA) says when the device named does not exist: "audio open error: No such
# file or directory" (hw:9, an unknown PCM name), "No such device" (plughw:CARD=Nope), with
# "Unknown PCM x" or "Cannot get card index for 9" / "cannot find card '0'" before it.
MISSING_DEVICE = ("no such file or directory", "no such device", "unknown pcm",
                  "cannot get card index", "cannot find card")  # fmt: skip
STOP_WAIT_S = 1.0  # how long a stopped arecord may take to exit before it is killed


def front_rate(pre: Preprocessing, what: str) -> int:
    """The model's audio rate; refuses a model that does not take audio.

    Raises:
        BadInputError: ``what`` (e.g. "replay file x.wav is audio") names the source.
    """
    if pre.audio is None:
        raise BadInputError(f"{what}; the model takes {pre.kind} input, not audio")
    return pre.audio.sample_rate_hz


def blocks_of(samples: np.ndarray, size: int) -> Iterator[np.ndarray]:
    """Consecutive (n, 1) float32 blocks of ``size`` samples (the last may be shorter)."""
    column = np.asarray(samples, dtype=np.float32).reshape(-1, 1)
    for start in range(0, len(column), size):
        yield column[start : start + size]


def clip_at_least(samples: np.ndarray, window: int) -> np.ndarray:
    """Zeros appended up to one window (training's rule for short clips), so a short clip
    still gives one window; longer clips stream as they are."""
    if len(samples) >= window:
        return samples
    return np.pad(samples, (0, window - len(samples)))


class WavReplay(Source):
    """A recorded WAV file, resampled to the model's rate, in blocks of ``hop`` samples.

    A file shorter than one window is padded with zeros to one window (training's rule).

    Args:
        path: the .wav file.
        pre: the model's preprocessing (an audio model).
        rate_hz: samples per second to replay at (0 = as fast as possible).
    """

    recorded = True

    def __init__(self, path: Path, pre: Preprocessing, *, rate_hz: float) -> None:
        super().__init__()
        rate = front_rate(pre, f"replay file {path} is audio (.wav)")
        self.samples = clip_at_least(read_wav(path, rate_hz=rate).samples, pre.window)
        self.block, self.rate_hz = pre.hop, rate_hz

    def __iter__(self) -> Iterator[Item]:
        pace = Paced(self.rate_hz / self.block, self.stop)
        for block in blocks_of(self.samples, self.block):
            if not pace.wait():
                return
            yield Item(block, False, block=True)


def wav_files_in_order(root: Path) -> list[Path]:
    """The .wav files (any case) under ``root`` in the order ``dir:`` reads them.

    Sorted by path, ``_background_noise_`` skipped: what the runtime replays, so a demo
    that lists a folder this way pairs each file with the runtime's result for it.
    """
    root = Path(root)
    return sorted(
        p
        for p in root.rglob("*")
        if p.suffix.lower() == ".wav"
        and p.is_file()
        and BACKGROUND_NOISE_FOLDER not in p.relative_to(root).parts
    )


class WavFolder(Source):
    """WAV clips in class sub-folders; each file is one recording, labelled by its folder.

    Files directly in the folder have no label; ``_background_noise_`` is skipped; the order
    is :func:`wav_files_in_order`'s. A file that cannot be read is dropped and counted; one
    shorter than a window is padded with zeros to one window, so a clip one window long (or
    shorter) gives exactly one window. Read as fast as possible unless a rate is given.
    """

    recorded = True

    def __init__(self, root: Path, pre: Preprocessing, *, rate_hz: float = 0.0) -> None:
        super().__init__()
        self.rate = front_rate(pre, f"folder {root} is read as WAV clips")
        if not root.is_dir():
            raise BadInputError(f"audio folder {root} does not exist")
        self.files = wav_files_in_order(root)
        if not self.files:
            raise BadInputError(
                f"audio folder {root} holds no .wav files; expected class sub-folders of clips"
            )
        self.root, self.pre, self.rate_hz = root, pre, rate_hz

    def __iter__(self) -> Iterator[Item]:
        pace = Paced(self.rate_hz / self.pre.hop, self.stop)
        for path in self.files:
            try:
                samples = read_wav(path, rate_hz=self.rate).samples
            except BadInputError as exc:  # one bad clip is counted, not fatal
                self.stats.drop(str(exc))
                continue
            label = path.parent.name if path.parent != self.root else None
            first = True
            for block in blocks_of(clip_at_least(samples, self.pre.window), self.pre.hop):
                if not pace.wait():
                    return
                yield Item(block, False, label, new_recording=first, block=True)
                first = False


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
                try:
                    for item in self._blocks(proc, retry):
                        delivered = True
                        yield item
                finally:
                    _end(proc)
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


def _end(proc: subprocess.Popen) -> None:
    """Stops arecord (if it still runs) and reaps it.

    Its stdout is closed first: arecord blocked writing to a full pipe ignores SIGTERM
    until that write fails, which closing the pipe makes happen at once.
    """
    proc.stdout.close()
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


def open_audio(
    scheme: str, target: str, pre: Preprocessing, *, rate: float | None, pace: float
) -> Source:
    """The audio source of ``replay:FILE.wav``, ``dir:PATH`` or ``mic[:DEVICE]``.

    Args:
        scheme: replay, dir or mic.
        target: the file, folder or ALSA device (empty: ``default``).
        pre: the model's preprocessing.
        rate: ``?rate=`` or ``--rate`` when given.
        pace: the replay rate in samples/s (0 = as fast as possible).
    """
    if scheme == "replay":
        return WavReplay(Path(target), pre, rate_hz=pace)
    if scheme == "dir":
        return WavFolder(Path(target), pre, rate_hz=rate or 0.0)
    return Microphone(target or "default", pre, rate_hz=rate)
