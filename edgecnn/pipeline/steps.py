"""Content-hashed pipeline steps: a finished step is reused while its inputs are unchanged.

Each step has a key: a sha256 over everything that decides its result (the data's bytes,
the options, the input model's bytes, the board file). ``pipeline-steps.json`` in the
pipeline folder maps step names to their key and result; a step whose key matches (and
whose files still exist) is not run again, so changing a budget never retrains.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edgecnn import fileio

STATE_FILE = "pipeline-steps.json"


def key_of(*parts: Any) -> str:
    """A sha256 over JSON-serialisable parts (dict keys sorted)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def file_digest(path: str | Path) -> str:
    """sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_digest(source: str) -> str:
    """sha256 over a data source's content: a file's bytes, or a folder's files and bytes.

    A ``builtin:`` source is its name (it ships inside the package, so the package version
    in the training key covers it).
    """
    if source.startswith("builtin:"):
        return key_of(source)
    path = Path(source).expanduser()
    if path.is_file():
        return file_digest(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        return key_of([(str(p.relative_to(path)), file_digest(p)) for p in files])
    return key_of("missing", source)  # loading it will fail with a clear message


class StepCache:
    """The finished steps of one pipeline folder, saved after every step."""

    def __init__(self, folder: Path, log: Callable[[str], None]) -> None:
        self.path = folder / STATE_FILE
        self.log = log
        self.steps: dict[str, dict] = (
            fileio.read_json(self.path).get("steps", {}) if self.path.is_file() else {}
        )
        self.reused: list[str] = []
        self.ran: list[str] = []

    def put(self, name: str, key: str, value: dict) -> dict:
        """Records a finished step (written at once, so an interrupted pipeline resumes)."""
        self.steps[name] = {"key": key, "value": value}
        self.ran.append(name)
        fileio.write_json(self.path, {"steps": self.steps})
        return value

    def run(
        self,
        name: str,
        key: str,
        compute: Callable[[], dict],
        *,
        files: Callable[[dict], tuple[Path, ...]] = lambda value: (),
    ) -> dict:
        """Reuses step ``name`` when possible, else computes and records it."""
        if self.is_done(name, key, files=files):
            self.reused.append(name)
            self.log(f"pipeline: {name}: reused (unchanged inputs)")
            return self.steps[name]["value"]
        self.log(f"pipeline: {name}: running")
        return self.put(name, key, compute())

    def is_done(
        self, name: str, key: str, *, files: Callable[[dict], tuple[Path, ...]] = lambda v: ()
    ) -> bool:
        """True when step ``name`` finished with this key and its files still exist."""
        entry = self.steps.get(name)
        if entry is None or entry.get("key") != key:
            return False
        return all(Path(f).is_file() for f in files(entry["value"]))
