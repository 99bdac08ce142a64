"""Atomic file writes: a temp file in the same folder, then a rename."""

from __future__ import annotations

import codecs
import contextlib
import errno
import itertools
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from edgecnn.core.errors import BadInputError

# What the OS says when a folder cannot be made or written: bad input, not a crash.
_UNWRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EEXIST}


class UnwritableFolderError(BadInputError, PermissionError):
    """A folder that cannot be created or written in (still a PermissionError, so callers
    that catch one to suggest a remedy keep working)."""


def writable_folder(folder: str | os.PathLike, what: str | None = None) -> Path:
    """Makes ``folder`` if needed and checks a file can be created in it, before long work.

    Args:
        folder: the folder results will be written to.
        what: the flag or command that chose it, e.g. ``"--out runs/x"``, for the message.

    Raises:
        UnwritableFolderError: a read-only or forbidden folder, or a file where a folder
            is needed; one line naming it.
    """
    path = Path(folder)
    with _unwritable_as_bad_input(path, what):
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".edgecnn-probe.", dir=path)
        os.close(fd)
        os.unlink(probe)
    return path


@contextlib.contextmanager
def _unwritable_as_bad_input(folder: Path, what: str | None) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if exc.errno not in _UNWRITABLE:
            raise
        blocker = next((p for p in (folder, *folder.parents) if p.exists()), folder)
        reason = (
            f"{blocker} is a file, not a folder"
            if not blocker.is_dir()
            else f"cannot write in {folder} ({exc.strerror.lower()})"
        )
        prefix = f"{what}: " if what else ""
        raise UnwritableFolderError(
            f"{prefix}{reason}; give a folder you can write to"
        ) from None


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yields a temporary path beside ``path``; renames it over ``path`` on success.

    Args:
        path: the final destination.
        suffix: the temp file's suffix; defaults to the destination's (some writers, like
            Keras, insist on a particular extension).
    """
    final = Path(path)
    with _unwritable_as_bad_input(final.parent, None):
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{final.name}.", suffix=suffix or final.suffix or ".tmp", dir=final.parent
        )
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~umask())  # mkstemp makes 0600; give the usual permissions
    try:
        yield tmp_path
        os.replace(tmp_path, final)
    finally:
        tmp_path.unlink(missing_ok=True)


def umask() -> int:
    """The process umask (read without changing it for long)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Writes bytes atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Writes text (UTF-8) atomically."""
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Writes an object as indented JSON atomically."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def write_with(path: str | os.PathLike, writer: Callable[[Path], Any]) -> None:
    """Calls ``writer(tmp_path)`` and atomically moves the result to ``path``."""
    with atomic_path(path) as tmp:
        writer(tmp)


def check_utf8(
    path: str | os.PathLike, what: str = "file", error: type[BadInputError] = BadInputError
) -> None:
    """Reads ``path`` through once (in chunks) and refuses it unless it is UTF-8 text.

    Checked before a file is used, so a Latin-1 CSV or config is one line naming the first
    bad byte and its line, not a traceback halfway through (or after results went out).

    Raises:
        BadInputError: (or ``error``) the first byte that is not UTF-8, with its line.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with open(path, "rb") as handle:
        for chunk in itertools.chain(iter(lambda: handle.read(1 << 20), b""), [b""]):
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                line += exc.object.count(b"\n", 0, exc.start)  # the few pending bytes hold none
                raise error(
                    f"{what} {path} is not UTF-8 text: byte 0x{exc.object[exc.start]:02x} on "
                    f"line {line}; save it as UTF-8"
                ) from None
            line += chunk.count(b"\n")


def read_json(path: str | os.PathLike) -> Any:
    """Reads a JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def cache_root(explicit: str | os.PathLike | None = None) -> Path:
    """edgecnn's cache folder: ``explicit``, ``$EDGECNN_CACHE`` or ``$XDG_CACHE_HOME/edgecnn``.

    ``$XDG_CACHE_HOME`` defaults to ``~/.cache``.
    """
    if explicit is not None:
        return Path(explicit)
    if os.environ.get("EDGECNN_CACHE"):
        return Path(os.environ["EDGECNN_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "edgecnn"
