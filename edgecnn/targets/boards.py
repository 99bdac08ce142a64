"""Board profiles: ``boards/<id>.toml`` loaded into frozen dataclasses, strictly checked.

A user adds a board by writing one TOML file; a missing or wrong-typed key is reported
with the file and the key. Set ``EDGECNN_BOARDS`` to a folder of extra board files.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from edgecnn.core.errors import BadInputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

# A link to the top-level boards/ in a checkout, the folder itself in an installed wheel.
BUILTIN_DIR = Path(__file__).resolve().parents[1] / "_boards"


class BoardKind(StrEnum):
    """Linux single-board computers run LiteRT; microcontrollers run TFLite Micro."""

    LINUX = "linux"
    MCU = "mcu"


@dataclass(frozen=True)
class Measurement:
    """A published latency of a known model on this board.

    ``graph`` names the rebuildable reference graph (edgecnn.targets.calibrate.refgraphs)
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

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class Board:
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

    @property
    def is_mcu(self) -> bool:
        """True for TFLite Micro targets."""
        return self.kind == BoardKind.MCU

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        out = dict(self.__dict__)
        out.update(
            kind=str(self.kind),
            features=list(self.features),
            measured=[m.to_dict() for m in self.measured],
        )
        return out


def board_dirs() -> list[Path]:
    """Folders searched for board files: EDGECNN_BOARDS first, then the shipped ones."""
    extra = os.environ.get("EDGECNN_BOARDS")
    dirs = [Path(extra)] if extra else []
    return dirs + ([BUILTIN_DIR] if BUILTIN_DIR.is_dir() else [])


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
    board = Board(
        id=read.get("id", str),
        name=read.get("name", str),
        kind=read.choice("kind", BoardKind),
        runtime=read.get("runtime", str),
        kernels=read.get("kernels", str),
        core=cpu.get("core", str),
        clock_mhz=cpu.get("clock_mhz", float),
        cores=cpu.get("cores", int),
        features=tuple(cpu.get("features", list, default=[])),
        ram_bytes=int(memory.get("ram_kib", float) * 1024),
        flash_bytes=_kib(memory.get("flash_kib", float, default=None)),
        measured=tuple(_measurement(read, i, m) for i, m in enumerate(read.array("measured"))),
        path=str(path),
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
        threads=item.get("threads", int),
        latency_ms=item.get("latency_ms", float),
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

    def choice(self, key: str, enum: type[StrEnum]) -> Any:
        value = self.get(key, str)
        try:
            return enum(value)
        except ValueError:
            choices = ", ".join(e.value for e in enum)
            raise BadInputError(f"{self._where(key)} is {value!r}; use {choices}") from None

    def table(self, key: str) -> _Reader:
        return self.sub(key, self.get(key, dict))

    def array(self, key: str) -> list:
        return self.get(key, list, default=[])

    def sub(self, key: str, value: Any) -> _Reader:
        if not isinstance(value, dict):
            raise BadInputError(f"{self._where(key)} must be a table")
        return _Reader(self.path, value, f"{self.prefix}{key}.")
