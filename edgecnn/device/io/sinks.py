"""Where results go: stdout JSON lines, JSONL/CSV files, MQTT, HTTP, a GPIO LED.

Every sink runs behind a :class:`Buffered` worker thread, so a slow sink never stalls sensor
reading: when its queue is full the result is dropped and counted instead. The network sinks
(MQTT, HTTP) live in ``netsinks``; :func:`open_sink` picks among all of them.
"""

from __future__ import annotations

import contextlib
import csv
import json
import queue
import re
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

from edgecnn.core.errors import BadInputError
from edgecnn.core.optional import require
from edgecnn.device.io.base import Sink

SCHEMES = (
    "stdout, text, jsonl:FILE, csv:FILE, mqtt://HOST[:PORT]/TOPIC, http(s)://URL, gpio:PIN=LABEL"
)
QUEUE_SIZE = 1000
CLOSE_TIMEOUT_S = 10.0
CSV_FIELDS = ("t", "window", "label", "score", "truth")


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
        self.led = gpiozero.LED(pin)

    def write(self, result: dict) -> None:
        if result.get("label") == self.label:
            self.led.on()
        else:
            self.led.off()

    def close(self) -> None:
        self.led.off()
        self.led.close()


class Buffered(Sink):
    """Runs ``inner`` in a worker thread behind a bounded queue.

    ``write`` never blocks: a full queue means the sink cannot keep up, and losing a result
    there is better than losing sensor samples upstream. Lost results are counted in ``drops``.
    """

    _END = object()

    def __init__(self, inner: Sink, *, size: int = QUEUE_SIZE) -> None:
        self.inner = inner
        self.drops = self.errors = 0
        self._queue: queue.Queue = queue.Queue(maxsize=size)
        self._thread = threading.Thread(target=self._work, name=f"sink-{type(inner).__name__}")
        self._thread.daemon = True  # a sink stuck in I/O must not keep the process alive
        self._thread.start()

    def write(self, result: dict) -> None:
        try:
            self._queue.put_nowait(result)
        except queue.Full:
            self.drops += 1

    def close(self, timeout: float = CLOSE_TIMEOUT_S) -> None:
        """Lets the worker finish the queue for at most ``timeout`` seconds, then closes."""
        deadline = time.monotonic() + timeout
        with contextlib.suppress(queue.Full):  # a stuck worker: give up at the deadline
            self._queue.put(self._END, timeout=timeout)
        self._thread.join(timeout=max(0.0, deadline - time.monotonic()))
        # Whatever is still queued after the deadline was never written: count it as dropped.
        self.drops += sum(1 for r in list(self._queue.queue) if r is not self._END)
        self.inner.close()

    def _work(self) -> None:
        while (result := self._queue.get()) is not self._END:
            try:
                self.inner.write(result)
            except Exception:  # noqa: BLE001 - one failed write must not kill the sink
                self.errors += 1


def open_sink(uri: str, *, queue_size: int = QUEUE_SIZE) -> Buffered:
    """Parses a sink URI; the sink runs behind a :class:`Buffered` queue of ``queue_size``.

    Raises:
        BadInputError: an unknown scheme or a file that cannot be opened.
        MissingDependencyError: paho-mqtt or gpiozero is needed and missing.
    """
    return Buffered(_open_inner(uri), size=queue_size)


def _open_inner(uri: str) -> Sink:
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

        return open_network_sink(uri)
    if scheme == "gpio" and (match := re.fullmatch(r"(\d+)=(.+)", target)):
        return GpioLed(int(match[1]), match[2])
    raise BadInputError(f"sink {uri!r} is not understood; use one of: {SCHEMES}")
