"""Writing a whole folder atomically: build it beside its destination, then rename it in.

An interrupted or failed write leaves either the previous folder or nothing, never a
half-written one that looks complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from edgecnn.core import fileio
from edgecnn.core.errors import BadInputError


def check_destination(dest: Path, *, overwrite: bool) -> None:
    """Refuses a destination that is a file, or a non-empty folder unless overwriting."""
    if dest.parent.exists() and not dest.parent.is_dir():
        raise BadInputError(f"{dest.parent} is a file, not a folder; choose another --out")
    if dest.exists() and not dest.is_dir():
        raise BadInputError(f"{dest} exists and is not a folder; choose another --out")
    if dest.is_dir() and any(dest.iterdir()) and not overwrite:
        raise BadInputError(
            f"{dest} already exists and is not empty; pass overwrite "
            "(--overwrite) to replace it or choose another --out or sketch name"
        )


def install_folder(files: dict[str, str], dest: Path, *, overwrite: bool) -> None:
    """Writes the files into a temp folder beside ``dest``, then renames it into place."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    except OSError as exc:
        raise BadInputError(f"cannot create a folder in {dest.parent}: {exc.strerror}") from None
    try:
        for name, text in files.items():
            (staging / name).write_bytes(text.encode("utf-8"))
        os.chmod(staging, 0o777 & ~fileio.umask())  # mkdtemp makes 0700; give the usual mode
        _swap_in(staging, dest, overwrite=overwrite)
    except OSError as exc:
        raise BadInputError(f"cannot write {dest}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap_in(staging: Path, dest: Path, *, overwrite: bool) -> None:
    check_destination(dest, overwrite=overwrite)  # again: it may have appeared meanwhile
    if dest.is_dir() and not any(dest.iterdir()):
        dest.rmdir()
    if not dest.exists():
        os.rename(staging, dest)
        return
    old = staging.with_name(staging.name + ".old")
    os.rename(dest, old)
    try:
        os.rename(staging, dest)
    except OSError:
        os.rename(old, dest)  # put the previous folder back rather than lose it
        raise
    shutil.rmtree(old, ignore_errors=True)
