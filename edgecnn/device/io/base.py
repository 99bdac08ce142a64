"""Base classes of sources and sinks, and the small helpers the concrete ones share.

Every concrete module (sources, audio, microphone, serialport, imu, camera, sinks,
spoolsink, netsinks, mqttsink) imports this one and it imports none of them, so the
dependency runs one way only. Device side: stdlib and numpy only.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from edgecnn.core.csvnumber import csv_number
from edgecnn.core.errors import BadInputError
from edgecnn.core.preprocess import Preprocessing

log = logging.getLogger(__name__)
STOP_POLL_S = 0.05  # how soon a waiting source sees a stop request
MAX_LINE_BYTES = 4096  # a longer text line without a newline is noise, not a sample

class Item(NamedTuple):
    """One sample, a block of samples, or one whole window/image (``is_window`` True).

    A sample's ``values`` hold its C channel values; a block's (``block`` True, e.g. a
    read of audio) are shaped (n, C), n consecutive samples that share ``label``.
    A named tuple: made once per sample, and a frozen dataclass costs a microsecond more.
    """

    values: np.ndarray
    is_window: bool
    label: str | None = None
    new_recording: bool = False
    block: bool = False


@dataclass
class SourceStats:
    """Counters a source keeps while it runs."""

    dropped: int = 0
    errors: int = 0
    notes: list[str] = field(default_factory=list)
    warned: bool = field(default=False, repr=False)

    def drop(self, reason: str) -> None:
        """Counts one bad sample; the first one is also logged, with why it was dropped."""
        self.dropped += 1
        if not self.warned:  # once: a misconfigured sender repeats the same fault forever
            self.warned = True
            log.warning("dropped a sample: %s; further bad samples are only counted", reason)


class StopFlag:
    """A stop request with ``threading.Event``'s ``set``/``is_set``/``wait``, signal-safe.

    ``Event.set`` takes a lock that ``Event.wait`` holds for a moment, so a SIGTERM handler
    that sets an Event can interrupt its own thread inside that moment and deadlock. Setting
    this is one assignment; a wait polls it every ``STOP_POLL_S``.
    """

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float | None = None) -> bool:
        """Sleeps until set or ``timeout`` seconds passed; True when set."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._set:
            left = STOP_POLL_S if deadline is None else deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(left, STOP_POLL_S))
        return self._set


class Source:
    """Base class: iterate to get items; ``stats`` counts drops.

    ``stop`` is set (by SIGINT/SIGTERM in ``edgecnn run``) to end the iteration within
    ``STOP_POLL_S``, even while the source waits for input, a paced sample or a device.
    ``recorded`` sources read files: they can wait for a slow sink, a live sensor cannot.
    """

    recorded = False

    def __init__(self) -> None:
        self.stats = SourceStats()
        self.stop = StopFlag()

    def __iter__(self) -> Iterator[Item]:
        raise NotImplementedError


class Paced:
    """Waits so that items come out at ``rate_hz`` (no waiting at 0), until ``stop`` is set."""

    def __init__(self, rate_hz: float, stop: StopFlag | None = None) -> None:
        self.period = 1.0 / rate_hz if rate_hz > 0 else 0.0
        self.next = time.monotonic()
        self.stop = stop or StopFlag()

    def wait(self) -> bool:
        """Waits until the next item is due; False when a stop request came first."""
        if self.period:
            self.next += self.period
            delay = self.next - time.monotonic()
            if delay > 0:
                return not self.stop.wait(delay)
        return not self.stop.is_set()


def parse_row(
    row: Sequence[str], columns: list[int], stats: SourceStats, *, width: int | None = None
) -> np.ndarray | None:
    """The channel values of one text row, or None (counted as dropped) when it is bad.

    The rule every text source applies: exactly ``width`` fields (default: one per channel;
    a row with more is as suspect as one with fewer), numbers in the channel columns (strict
    ASCII decimals, :func:`~edgecnn.core.csvnumber.csv_number`), and
    every number finite.
    """
    expected = len(columns) if width is None else width
    if len(row) != expected:
        stats.drop(f"{_shown(row)} has {len(row)} field(s); {expected} expected")
        return None
    try:
        values = np.array([csv_number(row[i]) for i in columns])
    except ValueError:
        stats.drop(f"{_shown(row)} has a value that is not a number")
        return None
    return finite(values, stats, _shown(row))


def finite(values: np.ndarray, stats: SourceStats, shown: str = "a sample") -> np.ndarray | None:
    """``values``, or None (counted as dropped) when any is NaN or infinite."""
    if values.dtype.kind in "fc" and not np.isfinite(values).all():  # integers always are
        stats.drop(f"{shown} holds NaN or infinite values")
        return None
    return values


def _shown(row: Sequence[str]) -> str:
    return repr(",".join(row)[:80])


def in_class_folder(path: Path, root: Path) -> bool:
    """True for ``root/FILE`` (no label) and ``root/CLASS/FILE`` (labelled CLASS), the files
    ``dir:`` reads: ``train`` reads a class folder's own files only, so a deeper
    ``root/yes/extra/clip.wav`` is read by neither (not scored with truth ``extra``)."""
    return len(path.relative_to(root).parts) <= 2


def class_folder_files(root: Path, files: Iterable[Path]) -> list[Path]:
    """``files`` that :func:`in_class_folder` keeps, sorted; says how many deeper ones are
    left out, so that a folder nested one level too deep is not skipped without a word."""
    files = list(files)
    kept = sorted(p for p in files if in_class_folder(p, root))
    if deeper := len(files) - len(kept):
        log.warning("%s: %d files in folders below the class folders are not read (dir: reads "
                    "ROOT/CLASS/FILE, as train does)", root, deeper)  # fmt: skip
    return kept


class Sink:
    """Receives one result dict per emitted window.

    ``fatal`` is set (to one line for people) when the sink found a configuration error that
    retrying cannot fix, such as a login the broker refuses; the run then ends with it.
    """

    fatal: str | None = None

    def write(self, result: dict) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Flushes and releases the sink."""


# Query options whose value is a secret (password=, token=, api_key=, access_token=, secret=,
# auth=, sig=): the one rule, shared by every message and by ``edgecnn service install``.
# Query names whose values are secrets. A substring match on purpose: hiding a harmless
# value ("author") costs a '***' in a message, showing a secret one ("session_pwd") leaks it.
_SECRET_KEY = re.compile(
    r"pass|pwd|token|secret|key|auth|sig|jwt|credential|session|cookie", re.IGNORECASE
)
# The login of a URI: up to the LAST '@' before the query (a raw '@' in a password is fine).
_LOGIN = re.compile(r"^([A-Za-z][\w+.-]*://[^/@:?#]*):([^?#]*)@")


def is_secret_name(name: str) -> bool:
    """True when a query option called ``name`` holds a secret (its value is never shown)."""
    return bool(_SECRET_KEY.search(name))


def redact_uri(uri: str) -> str:
    """``uri`` with its password and secret query values shown as ``***``.

    ``mqtt://user:pw@host:1883/t?password=pw`` becomes
    ``mqtt://user:***@host:1883/t?password=***``; the user name and the rest stay readable.
    """
    shown = _LOGIN.sub(r"\1:***@", uri)

    def hide(match: re.Match) -> str:
        key = match[2]
        return f"{match[1]}{key}=***" if is_secret_name(key) else match[0]

    return re.sub(r"([?&])([^=&#]+)=([^&#]*)", hide, shown)


def uri_secrets(uri: str) -> list[str]:
    """The password and the secret query values in ``uri`` (to hide them in any message)."""
    secrets = [m[2] for m in [_LOGIN.match(uri)] if m]
    secrets += [v for k, v in re.findall(r"[?&]([^=&#]+)=([^&#]*)", uri) if is_secret_name(k)]
    return [s for s in secrets if s]


def front_rate(pre: Preprocessing, what: str) -> int:
    """The model's audio rate; refuses a model that does not take audio.

    Raises:
        BadInputError: ``what`` (e.g. "replay file x.wav is audio") names the source.
    """
    if pre.audio is None:
        raise BadInputError(f"{what}; the model takes {pre.kind} input, not audio")
    return pre.audio.sample_rate_hz
