"""The pipeline configuration: ``edgecnn.toml`` checked key by key, with line numbers."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from edgecnn.errors import BadInputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

MODES = ("fp32", "fp16", "dynamic", "int8", "int16x8")


@dataclass(frozen=True)
class Budgets:
    """Limits a variant must meet on every target board (None = no limit)."""

    max_latency_ms: float | None = None
    max_arena_kb: float | None = None
    max_size_kb: float | None = None
    max_accuracy_drop: float | None = None


@dataclass(frozen=True)
class PipelineConfig:
    """What to train, which variants to make, where they must run and within what budgets."""

    data: str
    model: str = "lenet5"
    epochs: int = 40
    seed: int = 0
    prune_ratios: tuple[float, ...] = (0.0,)
    modes: tuple[str, ...] = ("fp32", "int8")
    boards: tuple[str, ...] = ()
    budgets: Budgets = field(default_factory=Budgets)


_TYPES: dict[str, tuple[type, ...]] = {
    "data": (str,),
    "model": (str,),
    "epochs": (int,),
    "seed": (int,),
    "prune_ratios": (list,),
    "modes": (list,),
    "boards": (list,),
}
_BUDGET_KEYS = {f.name for f in fields(Budgets)}


def load_config(path: str | Path) -> PipelineConfig:
    """Reads and checks a pipeline TOML file.

    Raises:
        BadInputError: unreadable TOML, an unknown key or a wrong type (naming the key and
            its line), a negative budget, a ratio outside [0, 1), an unknown mode.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise BadInputError(f"cannot read config {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise BadInputError(f"config {path} is not valid TOML: {exc}") from None
    return parse_config(data, where=_Locator(path, text))


def parse_config(data: dict[str, Any], *, where: _Locator | None = None) -> PipelineConfig:
    """Checks a config dict (from TOML or built in Python)."""
    where = where or _Locator(Path("<config>"), "")
    budgets = data.get("budgets", {})
    if not isinstance(budgets, dict):
        raise BadInputError(f"{where('budgets')}: must be a table")
    for key, value in data.items():
        if key == "budgets":
            continue
        if key not in _TYPES:
            raise BadInputError(
                f"{where(key)}: unknown key {key!r}; known keys: {', '.join([*_TYPES, 'budgets'])}"
            )
        _check_type(where, key, value, _TYPES[key])
    if "data" not in data:
        raise BadInputError(f"{where('data')}: the key 'data' is required")
    return PipelineConfig(
        data=data["data"],
        model=data.get("model", "lenet5"),
        epochs=data.get("epochs", 40),
        seed=data.get("seed", 0),
        prune_ratios=_ratios(where, data.get("prune_ratios", [0.0])),
        modes=_modes(where, data.get("modes", ["fp32", "int8"])),
        boards=tuple(_strings(where, "boards", data.get("boards", []))),
        budgets=_budgets(where, budgets),
    )


def _check_type(where, key: str, value: Any, kinds: tuple[type, ...]) -> None:
    if isinstance(value, bool) or not isinstance(value, kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise BadInputError(f"{where(key)}: {key} must be {names}, got {value!r}")


def _ratios(where, values: list) -> tuple[float, ...]:
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
            raise BadInputError(
                f"{where('prune_ratios')}: each ratio must be in [0, 1) "
                f"(0 = not pruned), got {value!r}"
            )
    return tuple(float(v) for v in values) or (0.0,)


def _modes(where, values: list) -> tuple[str, ...]:
    for value in _strings(where, "modes", values):
        if value not in MODES:
            raise BadInputError(
                f"{where('modes')}: unknown mode {value!r}; choose from {', '.join(MODES)}"
            )
    return tuple(values)


def _strings(where, key: str, values: list) -> list[str]:
    if not all(isinstance(v, str) for v in values):
        raise BadInputError(f"{where(key)}: {key} must be a list of strings, got {values!r}")
    return values


def _budgets(where, table: dict) -> Budgets:
    for key, value in table.items():
        if key not in _BUDGET_KEYS:
            raise BadInputError(
                f"{where(key)}: unknown budget {key!r}; known: {', '.join(sorted(_BUDGET_KEYS))}"
            )
        _check_type(where, key, value, (int, float))
        if value < 0:
            raise BadInputError(f"{where(key)}: budget {key} must not be negative, got {value}")
    return Budgets(**{k: float(v) for k, v in table.items()})


class _Locator:
    """Turns a key into ``file, line N`` by finding where the TOML text sets it."""

    def __init__(self, path: Path, text: str) -> None:
        self.path, self.lines = path, text.splitlines()

    def __call__(self, key: str) -> str:
        pattern = re.compile(rf"^\s*(\[\s*)?{re.escape(key)}\s*(=|\])")
        for number, line in enumerate(self.lines, start=1):
            if pattern.match(line):
                return f"{self.path}, line {number}"
        return str(self.path)
