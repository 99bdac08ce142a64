"""Where results go: stdout JSON lines, a JSONL file or a CSV file."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import TextIO

from edgecnn.errors import BadInputError

SCHEMES = "stdout, jsonl:FILE, csv:FILE"
CSV_FIELDS = ("t", "window", "label", "score", "truth")


class Sink:
    """Receives one result dict per emitted window."""

    def write(self, result: dict) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Flushes and releases the sink."""


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


def open_sink(uri: str) -> Sink:
    """Parses a sink URI.

    Raises:
        BadInputError: an unknown scheme or a file that cannot be opened.
    """
    scheme, _, target = uri.partition(":")
    try:
        if uri == "stdout":
            return JsonLines(sys.stdout)
        if scheme == "jsonl" and target:
            return JsonLines(Path(target).open("a", encoding="utf-8"), owned=True)
        if scheme == "csv" and target:
            return CsvFile(Path(target))
    except OSError as exc:
        raise BadInputError(f"sink {uri!r} cannot be opened: {exc.strerror}") from None
    raise BadInputError(f"sink {uri!r} is not understood; use one of: {SCHEMES}")
