"""The kit folder: ``kit.json`` naming model bundles and replay inputs, relative to the kit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgecnn.core import fileio
from edgecnn.core.errors import BadInputError

KIT_FILE = "kit.json"
EXPECTED = Path("expected") / "results.json"
RESULTS_FILE = "results.json"
FORMAT = 1


@dataclass(frozen=True)
class Case:
    """One model bundle and the recorded input it replays.

    Attributes:
        name: a short unique name, e.g. ``digits-int8``.
        model: the .tflite path (its manifest sits beside it).
        source: an ``edgecnn run`` source URI, ``replay:`` + an absolute path.
    """

    name: str
    model: Path
    source: str


@dataclass(frozen=True)
class Kit:
    """A loaded kit folder."""

    root: Path
    cases: tuple[Case, ...]

    @property
    def expected_path(self) -> Path:
        """Where the reference machine's results live."""
        return self.root / EXPECTED


def load_kit(root: str | Path) -> Kit:
    """Reads and checks ``ROOT/kit.json``.

    Raises:
        BadInputError: no such folder or file, an unknown format, a missing model or input.
    """
    root = Path(root).resolve()
    path = root / KIT_FILE
    if not path.is_file():
        raise BadInputError(
            f"{root} is not a conformance kit: it has no {KIT_FILE} (make one on the host with "
            "python pi/make_kit.py DIR)"
        )
    try:
        data = fileio.read_json(path)
        entries = data["cases"]
        version = data.get("format")
    except (ValueError, KeyError, TypeError) as exc:
        raise BadInputError(f"{path} is not a valid kit file: {exc}") from None
    if version != FORMAT:
        raise BadInputError(f"{path} has format {version!r}; this edgecnn reads format {FORMAT}")
    if not entries:
        raise BadInputError(f"{path} lists no cases")
    return Kit(root, tuple(_case(root, entry) for entry in entries))


def _case(root: Path, entry: dict) -> Case:
    try:
        name, model, source = entry["name"], entry["model"], entry["source"]
    except (KeyError, TypeError):
        raise BadInputError(f"kit case {entry!r} needs name, model and source") from None
    scheme, _, rel = source.partition(":")
    if scheme != "replay" or not rel:
        raise BadInputError(f"kit case {name}: source {source!r} must be replay:FILE")
    for file in (root / model, root / rel):
        if not file.is_file():
            raise BadInputError(f"kit case {name}: {file} is missing")
    return Case(name, root / model, f"replay:{root / rel}")


def write_kit(root: str | Path, cases: list[dict]) -> Path:
    """Writes ``kit.json`` for cases given as {name, model, source} relative to ``root``."""
    path = Path(root) / KIT_FILE
    fileio.write_json(path, {"format": FORMAT, "cases": cases})
    return path
