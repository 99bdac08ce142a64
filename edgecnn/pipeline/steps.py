"""Content-hashed pipeline steps: a finished step is reused while its inputs are unchanged.

Each step has a key: a sha256 over everything that decides its result (the data's bytes,
the options, the input model's bytes, the board file). ``pipeline-steps.json`` in the
pipeline folder maps step names to their key and result; a step whose key matches (and
whose files still exist) is not run again, so changing a budget never retrains.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edgecnn.core import fileio, optional
from edgecnn.device import platforminfo

STATE_FILE = "pipeline-steps.json"


# Part of every key: bump it when what a step records changes, so old records are redone.
# 3: the train and quantize steps record validation-split results (variants rank on them).
RECORD_FORMAT = 3


def key_of(*parts: Any) -> str:
    """A sha256 over JSON-serialisable parts (dict keys sorted) and the record format."""
    text = json.dumps([RECORD_FORMAT, *parts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@functools.cache
def toolchain() -> dict[str, str | None]:
    """The versions results depend on: part of every step's key."""
    return optional.toolchain_versions()


@functools.cache
def machine() -> str:
    """What host timings depend on: architecture, CPU model and count."""
    cpu = platforminfo.host_cpuinfo().core
    name = cpu or platform.processor() or "unknown CPU"
    return f"{platform.machine()}, {name}, {os.cpu_count()} CPUs"


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
    in the training key covers it). Symlinked folders are followed, as the loaders do.
    """
    if source.startswith("builtin:"):
        return key_of(source)
    path = Path(source).expanduser()
    if path.is_file():
        return file_digest(path)
    if path.is_dir():
        files = sorted(
            Path(top, name) for top, _, names in os.walk(path, followlinks=True) for name in names
        )
        return key_of([(str(p.relative_to(path)), file_digest(p)) for p in files if p.is_file()])
    return key_of("missing", source)  # loading it will fail with a clear message


class StepCache:
    """The finished steps of one pipeline folder, saved after every step.

    A step's record holds its key, its result and the sha256 of each file it wrote (paths
    relative to the folder, so a moved folder keeps its steps); it is reused only while the
    key matches and every file still has that content.
    """

    def __init__(self, folder: Path, log: Callable[[str], None]) -> None:
        self.folder = folder
        self.path = folder / STATE_FILE
        self.log = log
        self.steps = _read_state(self.path, log)
        self.reused: list[str] = []
        self.ran: list[str] = []

    def run(
        self,
        name: str,
        key: str,
        compute: Callable[[], dict],
        *,
        outputs: tuple[Path, ...] = (),
    ) -> dict:
        """Reuses step ``name`` when possible, else computes and records it."""
        if self.is_done(name, key, outputs=outputs):
            return self.reuse(name)
        self.log(f"pipeline: {name}: running")
        return self.put(name, key, compute(), outputs=outputs)

    def reuse(self, name: str) -> dict:
        """The recorded result of a step :meth:`is_done` found finished, counted as reused."""
        self.reused.append(name)
        self.log(f"pipeline: {name}: reused (unchanged inputs)")
        return self.steps[name]["value"]

    def put(self, name: str, key: str, value: dict, *, outputs: tuple[Path, ...] = ()) -> dict:
        """Records a finished step (written at once, so an interrupted pipeline resumes)."""
        digests = {self._relative(p): file_digest(p) for p in outputs}
        self.steps[name] = {"key": key, "value": value, "outputs": digests}
        self.ran.append(name)
        fileio.write_json(self.path, {"steps": self.steps})
        return value

    def is_done(self, name: str, key: str, *, outputs: tuple[Path, ...] = ()) -> bool:
        """True when step ``name`` finished with this key and its files are unchanged."""
        entry = self.steps.get(name)
        if entry is None or entry.get("key") != key:
            return self._renamed(name, key, outputs)
        return self._unchanged(entry, outputs)

    def _renamed(self, name: str, key: str, outputs: tuple[Path, ...]) -> bool:
        """Finds the step under another name and files it under ``name``: the key covers all
        that decides a step, and names change when a second model family joins (each
        family's steps are then named after it)."""
        old = next((n for n, e in self.steps.items() if e.get("key") == key and n != name), None)
        if old is None or not self._unchanged(self.steps[old], outputs):
            return False
        self.steps[name] = self.steps.pop(old)
        fileio.write_json(self.path, {"steps": self.steps})
        return True

    def _unchanged(self, entry: dict, outputs: tuple[Path, ...]) -> bool:
        recorded = entry.get("outputs", {})
        return all(
            Path(p).is_file() and recorded.get(self._relative(p)) == file_digest(p)
            for p in outputs
        )

    def _relative(self, path: Path) -> str:
        return Path(os.path.relpath(path, self.folder)).as_posix()


def _read_state(path: Path, log: Callable[[str], None]) -> dict[str, dict]:
    """The saved steps; an unreadable or hand-broken file means starting over."""
    if not path.is_file():
        return {}
    try:
        steps = fileio.read_json(path).get("steps", {})
    except (ValueError, AttributeError, OSError):
        steps = None
    if not isinstance(steps, dict) or not all(isinstance(v, dict) for v in steps.values()):
        log(f"pipeline: {path} is unreadable; running every step again")
        return {}
    return steps
