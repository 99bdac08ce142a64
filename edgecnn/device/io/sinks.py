"""Where results go: stdout JSON lines, JSONL/CSV files, MQTT, HTTP, a GPIO LED.

Every sink runs behind a :class:`Buffered` worker thread, so a slow sink never stalls sensor
reading: when its queue is full the result of a live source is dropped and counted, while a
replayed file waits for room (backpressure). Write errors are counted, never raised into the
run. The network sinks (MQTT, HTTP) live in ``netsinks``; :func:`open_sink` picks among all.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import queue
import re
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import TextIO

from edgecnn.core.errors import BadInputError
from edgecnn.core.optional import require
from edgecnn.device.io.base import Sink, redact_uri
from edgecnn.device.io.sinkuri import SCHEMES, check_sink

QUEUE_SIZE = 1000
CLOSE_TIMEOUT_S = 10.0
BATCH_MAX = 500  # results handed to a sink at once (one spool commit)
CSV_FIELDS = ("t", "window", "label", "score", "truth")

log = logging.getLogger(__name__)


class JsonLines(Sink):
    """One JSON object per line, flushed at once so a reader sees each result live."""

    def __init__(self, stream: TextIO, *, owned: bool = False) -> None:
        self.stream, self.owned = stream, owned

    def write(self, result: dict) -> None:
        self.stream.write(json.dumps(result) + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.owned:
            self.stream.close()


class TextLines(Sink):
    """One line a person reads: window, label, score, and the true label when known."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, result: dict) -> None:
        line = f"#{result['window']:<5} {result['label']:<12} {result['score']:.3f}"
        if "truth" in result:
            mark = "ok" if result["truth"] == result["label"] else "WRONG"
            line += f"   true {result['truth']:<12} {mark}"
        self.stream.write(line + "\n")
        self.stream.flush()


class CsvFile(Sink):
    """t, window, label, score and true label (when the source knows it) per row."""

    def __init__(self, path: Path) -> None:
        self.stream = path.open("a", newline="", encoding="utf-8")
        self.writer = csv.DictWriter(self.stream, CSV_FIELDS, extrasaction="ignore")
        if path.stat().st_size == 0:
            self.writer.writeheader()

    def write(self, result: dict) -> None:
        self.writer.writerow(result)
        self.stream.flush()

    def close(self) -> None:
        self.stream.close()


class GpioLed(Sink):
    """An LED on BCM pin ``pin``: on while the current label is ``label``, off otherwise."""

    def __init__(self, pin: int, label: str) -> None:
        gpiozero = require("gpiozero", extra="gpio")
        self.label = label
        try:
            with warnings.catch_warnings():  # each factory tried is a warning: the line says it
                warnings.simplefilter("ignore", gpiozero.PinFactoryFallback)
                self.led = gpiozero.LED(pin)
        except gpiozero.GPIOZeroError as exc:  # no pin factory off a Pi, a pin in use, ...
            raise BadInputError(
                f"gpio:{pin} cannot drive an LED here: {exc}; gpio sinks need a Raspberry Pi's "
                "GPIO (gpiozero with lgpio or RPi.GPIO)"
            ) from None

    def write(self, result: dict) -> None:
        if result.get("label") == self.label:
            self.led.on()
        else:
            self.led.off()

    def close(self) -> None:
        self.led.off()
        self.led.close()


class Buffered(Sink):
    """Runs ``inner`` in a worker thread behind a bounded queue, and keeps its accounts.

    A full queue means the sink cannot keep up. For a live source ``write`` never blocks:
    losing a result there is better than losing sensor samples upstream, and it is counted
    in ``drops``. Given ``backpressure`` (an event; for replayed files, which can wait),
    ``write`` waits for room instead, until that event is set. The worker hands the inner
    sink every result queued so far at once when it has ``write_many`` (one spool commit per
    batch). Failed writes are counted in ``errors``; ``close`` never raises.
    """

    _END = object()

    def __init__(
        self,
        inner: Sink,
        *,
        size: int = QUEUE_SIZE,
        name: str = "",
        backpressure: threading.Event | None = None,
    ) -> None:
        self.inner, self.backpressure = inner, backpressure
        self.name = name or type(inner).__name__
        self.drops = self.errors = self.written = 0
        self.last_error: str | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=size)
        self._thread = threading.Thread(target=self._work, name=f"sink-{type(inner).__name__}")
        self._thread.daemon = True  # a sink stuck in I/O must not keep the process alive
        self._thread.start()

    @property
    def fatal(self) -> str | None:
        return self.inner.fatal

    @property
    def pending(self) -> int:
        """Results waiting in a network sink's spool (0 for the other sinks)."""
        return getattr(self.inner, "pending", 0)

    @property
    def lost(self) -> int:
        """Results this sink lost: its queue was full, or its spool was (the oldest went)."""
        return self.drops + getattr(self.inner, "bound_drops", 0)

    @property
    def rejected(self) -> int:
        """Results the far end refused for good (HTTP 4xx); given up, not retried."""
        return getattr(self.inner, "rejected", 0)

    def failed_every_write(self) -> bool:
        """True when results came and none was written (or the far end refused them all)."""
        return self.errors + self.rejected > 0 and self.written <= self.rejected

    def notes(self) -> list[str]:
        """Lines for people about what this sink did not do (none when all went well)."""
        lines = []
        if self.errors:
            lines.append(
                f"sink {self.name}: {self.errors} write errors, {self.written} results written "
                f"(last error: {self.last_error})"
            )
        if self.drops:
            lines.append(f"sink {self.name}: {self.drops} results dropped (it could not keep up)")
        return lines + (self.inner.notes() if hasattr(self.inner, "notes") else [])

    def write(self, result: dict) -> None:
        try:
            self._queue.put_nowait(result)
        except queue.Full:
            if not self._wait_for_room(result):
                self.drops += 1

    def close(self, timeout: float = CLOSE_TIMEOUT_S) -> None:
        """Lets the worker finish the queue for at most ``timeout`` seconds, then closes."""
        deadline = time.monotonic() + timeout
        with contextlib.suppress(queue.Full):  # a stuck worker: give up at the deadline
            self._queue.put(self._END, timeout=timeout)
        self._thread.join(timeout=max(0.0, deadline - time.monotonic()))
        # Whatever is still queued after the deadline was never written: count it as dropped.
        self.drops += sum(1 for r in list(self._queue.queue) if r is not self._END)
        try:
            self.inner.close()
        except Exception as exc:  # noqa: BLE001 - one sink's failure must not stop the others
            # E.g. the final flush on a full disk: an error of its own only when no write
            # failed before (else it is the same failure, already counted).
            self._failed(exc, 0 if self.errors else 1)

    def _wait_for_room(self, result: dict) -> bool:
        while self.backpressure is not None and not self.backpressure.is_set():
            with contextlib.suppress(queue.Full):
                self._queue.put(result, timeout=0.1)  # short: a stop request is seen soon
                return True
        return False

    def _work(self) -> None:
        while True:
            batch = [self._queue.get()]
            with contextlib.suppress(queue.Empty):
                while len(batch) < BATCH_MAX and batch[-1] is not self._END:
                    batch.append(self._queue.get_nowait())
            ended = batch[-1] is self._END
            self._write(batch[:-1] if ended else batch)
            if ended:
                return

    def _write(self, batch: list[dict]) -> None:
        if not batch:
            return
        if hasattr(self.inner, "write_many"):
            try:
                self.inner.write_many(batch)
                self.written += len(batch)
            except Exception as exc:  # noqa: BLE001 - counted; the worker must live on
                self._failed(exc, len(batch))
            return
        for result in batch:
            try:
                self.inner.write(result)
                self.written += 1
            except Exception as exc:  # noqa: BLE001 - one failed write must not kill the sink
                self._failed(exc)

    def _failed(self, exc: Exception, count: int = 1) -> None:
        if not self.errors:  # the first one says what is wrong; the rest are counted
            log.warning("sink %s: write failed: %s (further failures are counted)", self.name, exc)
        self.errors += count
        self.last_error = str(exc)


def open_sink(
    uri: str,
    *,
    queue_size: int = QUEUE_SIZE,
    backpressure: threading.Event | None = None,
    stopping: threading.Event | None = None,
) -> Buffered:
    """Parses a sink URI; the sink runs behind a :class:`Buffered` queue of ``queue_size``.

    Args:
        uri: one of :data:`SCHEMES`.
        queue_size: how many results may wait for the sink.
        backpressure: see :class:`Buffered` (None: a full queue drops, for live sources).
        stopping: set when the run is asked to stop: network sinks then close at once,
            spooling what is unsent, instead of draining.

    Raises:
        BadInputError: an unknown scheme or a file that cannot be opened.
        MissingDependencyError: paho-mqtt or gpiozero is needed and missing.
    """
    check_sink(uri)
    inner = _open_inner(uri, stopping)
    return Buffered(inner, size=queue_size, name=redact_uri(uri), backpressure=backpressure)


def _open_inner(uri: str, stopping: threading.Event | None = None) -> Sink:
    scheme, _, target = uri.partition(":")
    try:
        if uri == "stdout":
            return JsonLines(sys.stdout)
        if uri == "text":
            return TextLines(sys.stdout)
        if scheme == "jsonl" and target:
            return JsonLines(Path(target).open("a", encoding="utf-8"), owned=True)
        if scheme == "csv" and target:
            return CsvFile(Path(target))
    except OSError as exc:
        raise BadInputError(f"sink {uri!r} cannot be opened: {exc.strerror}") from None
    if scheme in ("mqtt", "http", "https") and target.startswith("//"):
        # Imported here: only network sinks need sqlite3 (the spool) and urllib.request.
        from edgecnn.device.io.netsinks import open_network_sink

        return open_network_sink(uri, stopping=stopping)
    if scheme == "gpio" and (match := re.fullmatch(r"(\d+)=(.+)", target)):
        return GpioLed(int(match[1]), match[2])
    shown = redact_uri(uri)
    raise BadInputError(f"sink {shown!r} is not understood; use one of: {SCHEMES}")
