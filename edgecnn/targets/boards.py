"""Board profiles: ``boards/<id>.toml`` loaded into frozen dataclasses, strictly checked.

A user adds a board by writing one TOML file; a missing, wrong-typed or impossible key
(``clock_mhz = 0``) is reported with the file, the key and the value. Set
``EDGECNN_BOARDS`` to a folder of extra board files: whenever boards are looked up, that
folder must exist and every board file in it must load, so a typo there is an error, not a
board quietly missing (or a shipped board quietly used in its place).
"""

from __future__ import annotations

import math
import os
import sys
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from edgecnn.core.errors import BadInputError
from edgecnn.core.records import Record

# A link to the top-level boards/ in a checkout, the folder itself in an installed wheel.
BUILTIN_DIR = Path(__file__).resolve().parents[1] / "_boards"
BOARDS_ENV = "EDGECNN_BOARDS"


class BoardKind(StrEnum):
    """Linux single-board computers run LiteRT; microcontrollers run TFLite Micro."""

    LINUX = "linux"
    MCU = "mcu"


@dataclass(frozen=True)
class Measurement(Record):
    """A published latency of a known model on this board.

    ``graph`` names the rebuildable reference graph (edgecnn.costfit.refgraphs)
    or is None when the model cannot be rebuilt offline; ``kernels`` is set when the figure
    used other kernels than the board's default (e.g. TFLM reference kernels, not CMSIS-NN).
    """

    model: str
    graph: str | None
    kernels: str | None
    rebuild: str
    macs: int | None
    dtype: str
    runtime: str
    threads: int
    latency_ms: float
    source: str
    confidence: str


@dataclass(frozen=True)
class Board(Record):
    """One target board."""

    id: str
    name: str
    kind: BoardKind
    runtime: str
    kernels: str
    core: str
    clock_mhz: float
    cores: int
    features: tuple[str, ...]
    ram_bytes: int
    flash_bytes: int | None
    measured: tuple[Measurement, ...]
    path: str
    # What stands in for the core when firmware runs without the board (``[emulation]``):
    # e.g. "qemu-system-arm -M mps2-an386 (Cortex-M4F)"; None when nothing does.
    emulated_by: str | None = None
    emulation_note: str = ""

    @property
    def is_mcu(self) -> bool:
        """True for TFLite Micro targets."""
        return self.kind == BoardKind.MCU


def board_dirs() -> list[Path]:
    """Folders searched for board files: EDGECNN_BOARDS first, then the shipped ones.

    Raises:
        BadInputError: EDGECNN_BOARDS is not a readable folder, or a file in it does not load.
    """
    extra = _user_board_folder()
    return ([extra] if extra else []) + ([BUILTIN_DIR] if BUILTIN_DIR.is_dir() else [])


def user_dir() -> Path:
    """Where edgecnn keeps a user's board data (the cost-model refit).

    ``EDGECNN_BOARDS`` when set, else the platform's config folder: ``$XDG_CONFIG_HOME/edgecnn``
    (``~/.config/edgecnn``), ``~/Library/Application Support/edgecnn`` on macOS,
    ``%APPDATA%\\edgecnn`` on Windows. Never the installed package, which may be read-only.
    """
    extra = os.environ.get(BOARDS_ENV)
    if extra:
        return Path(extra)
    if sys.platform == "win32":
        base = os.environ.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = str(Path.home() / "Library" / "Application Support")
    else:  # XDG: a relative XDG_CONFIG_HOME is invalid and is ignored
        xdg = os.environ.get("XDG_CONFIG_HOME", "")
        base = xdg if os.path.isabs(xdg) else str(Path.home() / ".config")
    return Path(base) / "edgecnn"


def _user_board_folder() -> Path | None:
    """EDGECNN_BOARDS, checked: a readable folder whose board files all load."""
    extra = os.environ.get(BOARDS_ENV)
    if not extra:
        return None
    folder = Path(extra)
    try:
        files = sorted(p for p in folder.iterdir() if p.suffix == ".toml")
    except OSError as exc:
        problem = "not a folder" if folder.exists() else "not a folder (it does not exist)"
        if folder.is_dir():
            problem = f"not readable ({exc.strerror})"
        raise BadInputError(
            f"{BOARDS_ENV}={extra} is {problem}; point it at a folder of board .toml files "
            "or unset it"
        ) from None
    for path in files:
        load_board_file(path)
    return folder


def list_boards() -> list[Board]:
    """Every board file found, loaded and checked (a user file overrides a shipped one)."""
    found: dict[str, Path] = {}
    for folder in reversed(board_dirs()):
        for path in sorted(folder.glob("*.toml")):
            found[path.stem] = path
    return [load_board_file(path) for _, path in sorted(found.items())]


def known_board_ids() -> list[str]:
    """The ids of every board file found, sorted."""
    return sorted({p.stem for d in board_dirs() for p in d.glob("*.toml")})


def board_file(board_id: str) -> Path:
    """The file that defines ``board_id`` (a user file wins over a shipped one).

    Raises:
        BadInputError: an unknown id (listing the known ones).
    """
    for folder in board_dirs():
        path = folder / f"{board_id}.toml"
        if path.is_file():
            return path
    raise BadInputError(f"unknown board {board_id!r}; known boards: {', '.join(known_board_ids())}")


def get_board(board_id: str) -> Board:
    """Loads a board by id.

    Raises:
        BadInputError: an unknown id (listing the known ones) or a malformed file.
    """
    return load_board_file(board_file(board_id))


def load_board_file(path: Path) -> Board:
    """Parses and checks one board TOML file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise BadInputError(f"board file {path}: not valid TOML: {exc}") from None
    read = _Reader(path, data)
    cpu, memory = read.table("cpu"), read.table("memory")
    emulation = read.table("emulation", default={})
    board = Board(
        id=read.get("id", str),
        name=read.get("name", str),
        kind=read.choice("kind", BoardKind),
        runtime=read.get("runtime", str),
        kernels=read.get("kernels", str),
        core=cpu.get("core", str),
        clock_mhz=cpu.positive("clock_mhz", float),
        cores=cpu.positive("cores", int),
        features=tuple(cpu.get("features", list, default=[])),
        ram_bytes=int(memory.positive("ram_kib", float) * 1024),
        flash_bytes=_kib(memory.positive("flash_kib", float, default=None)),
        measured=tuple(_measurement(read, i, m) for i, m in enumerate(read.array("measured"))),
        path=str(path),
        emulated_by=emulation.get("by", str, default=None),
        emulation_note=emulation.get("note", str, default=""),
    )
    if board.id != path.stem:
        raise BadInputError(
            f"board file {path}: id {board.id!r} must match the file name {path.stem!r}"
        )
    return board


def _kib(value: float | None) -> int | None:
    return None if value is None else int(value * 1024)


def _measurement(read: _Reader, index: int, data: Any) -> Measurement:
    item = read.sub(f"measured[{index}]", data)
    return Measurement(
        model=item.get("model", str),
        graph=item.get("graph", str, default=None),
        kernels=item.get("kernels", str, default=None),
        rebuild=item.get("rebuild", str),
        macs=item.get("macs", int, default=None),
        dtype=item.get("dtype", str),
        runtime=item.get("runtime", str),
        threads=item.positive("threads", int),
        latency_ms=item.positive("latency_ms", float),
        source=item.get("source", str),
        confidence=item.get("confidence", str, default="primary"),
    )


_MISSING = object()


class _Reader:
    """Typed access to a TOML table with errors that name the file and the key."""

    def __init__(self, path: Path, data: dict, prefix: str = "") -> None:
        self.path, self.data, self.prefix = path, data, prefix

    def _where(self, key: str) -> str:
        return f"board file {self.path}: key '{self.prefix}{key}'"

    def get(self, key: str, kind: type, default: Any = _MISSING) -> Any:
        if key not in self.data:
            if default is _MISSING:
                raise BadInputError(f"{self._where(key)} is missing")
            return default
        value = self.data[key]
        numeric = kind is float and isinstance(value, int) and not isinstance(value, bool)
        if not (isinstance(value, kind) and not isinstance(value, bool)) and not numeric:
            raise BadInputError(f"{self._where(key)} must be {kind.__name__}, got {value!r}")
        return float(value) if numeric else value

    def positive(self, key: str, kind: type, default: Any = _MISSING) -> Any:
        """A number a board cannot do without: a float above 0 (finite), an int at least 1."""
        value = self.get(key, kind, default)
        if key not in self.data:
            return value
        if kind is int and value < 1:
            raise BadInputError(f"{self._where(key)} is {value!r}; it must be at least 1")
        if kind is float and not (math.isfinite(value) and value > 0):
            raw = self.data[key]
            raise BadInputError(f"{self._where(key)} is {raw!r}; it must be greater than 0")
        return value

    def choice(self, key: str, enum: type[StrEnum]) -> Any:
        value = self.get(key, str)
        try:
            return enum(value)
        except ValueError:
            choices = ", ".join(e.value for e in enum)
            raise BadInputError(f"{self._where(key)} is {value!r}; use {choices}") from None

    def table(self, key: str, default: Any = _MISSING) -> _Reader:
        return self.sub(key, self.get(key, dict, default=default))

    def array(self, key: str) -> list:
        return self.get(key, list, default=[])

    def sub(self, key: str, value: Any) -> _Reader:
        if not isinstance(value, dict):
            raise BadInputError(f"{self._where(key)} must be a table")
        return _Reader(self.path, value, f"{self.prefix}{key}.")
