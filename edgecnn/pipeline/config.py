"""The pipeline configuration: ``edgecnn.toml`` checked key by key, with line numbers."""

from __future__ import annotations

import re
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from edgecnn.core.errors import BadInputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

MODES = ("fp32", "fp16", "dynamic", "int8", "int16x8")


@dataclass(frozen=True)
class BoardBudgets:
    """Limits on one board that replace the global ones there (None = the global limit)."""

    max_latency_ms: float | None = None
    max_arena_kb: float | None = None
    max_size_kb: float | None = None


@dataclass(frozen=True)
class Budgets:
    """Limits a variant must meet on every target board (None = no limit).

    ``per_board`` replaces the latency, arena and size limits on single boards, e.g. 5 ms
    on a Raspberry Pi but 100 ms on a microcontroller (``[budgets.<board id>]`` in TOML).
    """

    max_latency_ms: float | None = None
    max_arena_kb: float | None = None
    max_size_kb: float | None = None
    max_accuracy_drop: float | None = None
    per_board: dict[str, BoardBudgets] = field(default_factory=dict, hash=False)

    def on(self, board: str) -> BoardBudgets:
        """The latency, arena and size limits that hold on ``board``."""
        own = self.per_board.get(board, BoardBudgets())
        return BoardBudgets(
            **{
                f.name: getattr(own, f.name) if getattr(own, f.name) is not None
                else getattr(self, f.name)
                for f in fields(BoardBudgets)
            }
        )  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> Budgets:
        """Rebuilds budgets saved with ``dataclasses.asdict``."""
        boards = {b: BoardBudgets(**v) for b, v in (data.get("per_board") or {}).items()}
        return cls(**{k: v for k, v in data.items() if k != "per_board"}, per_board=boards)


@dataclass(frozen=True)
class PipelineConfig:
    """What to train, which variants to make, where they must run and within what budgets."""

    data: str
    model: str = "lenet5"
    epochs: int = 40
    seed: int = 0
    batch_size: int = 32
    width: float | None = None
    patience: int = 8
    augment: str | None = None
    balance: str = "none"
    input_shape: tuple[int, ...] | None = None
    window: int = 128
    hop: int | None = None
    label_column: str = "label"
    prune_ratios: tuple[float, ...] = (0.0,)
    finetune_epochs: int = 3
    modes: tuple[str, ...] = ("fp32", "int8")
    calibration_samples: int = 300
    boards: tuple[str, ...] = ()
    bench_runs: int = 50
    budgets: Budgets = field(default_factory=Budgets)

    def to_dict(self) -> dict:
        """A JSON-ready dict (the provenance of a pipeline run)."""
        out = asdict(self)
        for key in ("prune_ratios", "modes", "boards", "input_shape"):
            out[key] = list(out[key]) if out[key] is not None else None
        return out


_TYPES: dict[str, tuple[type, ...]] = {
    "data": (str,),
    "model": (str,),
    "epochs": (int,),
    "seed": (int,),
    "batch_size": (int,),
    "width": (int, float),
    "patience": (int,),
    "augment": (str,),
    "balance": (str,),
    "input_shape": (list, str),
    "window": (int,),
    "hop": (int,),
    "label_column": (str,),
    "prune_ratios": (list,),
    "finetune_epochs": (int,),
    "modes": (list,),
    "calibration_samples": (int,),
    "boards": (list,),
    "bench_runs": (int,),
}
# Keys whose value must be at least this (0 = non-negative).
_MINIMUM = {
    "epochs": 1, "batch_size": 1, "patience": 1, "window": 1, "hop": 1,
    "finetune_epochs": 0, "calibration_samples": 10, "bench_runs": 1,
}  # fmt: skip
_BUDGET_KEYS = {f.name for f in fields(Budgets)} - {"per_board"}
_BOARD_BUDGET_KEYS = {f.name for f in fields(BoardBudgets)}


def load_config(path: str | Path, *, overrides: dict | None = None) -> PipelineConfig:
    """Reads and checks a pipeline TOML file.

    Args:
        path: the ``edgecnn.toml``.
        overrides: keys that replace the file's (command-line flags); a ``budgets`` dict
            replaces single budgets.

    Raises:
        BadInputError: unreadable TOML, an unknown key or a wrong type (naming the key and
            its line), a negative budget, a ratio outside [0, 1), an unknown mode or board.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise BadInputError(f"cannot read config {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise BadInputError(f"config {path} is not valid TOML: {exc}") from None
    where = _Locator(path, text, flags=_flag_keys(overrides or {}))
    if isinstance(data.get("data"), str):
        data["data"] = _beside(path, data["data"])
    return parse_config(merge(data, overrides or {}), where=where)


def _beside(config_path: Path, source: str) -> str:
    """A relative data path in a config file is relative to the file, not to the caller."""
    if source.startswith("builtin:") or Path(source).expanduser().is_absolute():
        return source
    return str(config_path.parent / source)


def parse_flags(flags: dict[str, Any]) -> PipelineConfig:
    """Checks config keys given as command-line flags; errors name the flag."""
    return parse_config(flags, where=_Locator(Path("command line"), "", flags=_flag_keys(flags)))


def _flag_keys(flags: dict[str, Any]) -> set[str]:
    return set(flags) | set(flags.get("budgets") or {})


def merge(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``data`` with ``overrides`` on top; budgets merge one by one (a file's ``budgets``
    that is not a table is left for :func:`parse_config` to refuse)."""
    merged = dict(data) | {k: v for k, v in overrides.items() if k != "budgets"}
    base = data.get("budgets", {})
    if overrides.get("budgets") and isinstance(base, dict):
        merged["budgets"] = base | overrides["budgets"]
    return merged


def parse_config(data: dict[str, Any], *, where: _Locator | None = None) -> PipelineConfig:
    """Checks a config dict (from TOML or built in Python)."""
    where = where or _Locator(Path("<config>"), "")
    data = {k: v for k, v in data.items() if v is not None}  # None (from Python): unset
    budgets = data.get("budgets", {})
    if not isinstance(budgets, dict):
        raise BadInputError(
            f"{where('budgets')}: budgets must be a table ([budgets] then lines like "
            f"max_latency_ms = 5), got {budgets!r}"
        )
    budgets = {k: v for k, v in budgets.items() if v is not None and k != "per_board"} | (
        budgets.get("per_board") or {}  # as saved by to_dict
    )
    for key, value in data.items():
        if key == "budgets":
            continue
        if key not in _TYPES:
            raise BadInputError(
                f"{where(key)}: unknown key {key!r}; known keys: {', '.join([*_TYPES, 'budgets'])}"
            )
        _check_type(where, key, value, _TYPES[key])
        if key in _MINIMUM and value < _MINIMUM[key]:
            least = _MINIMUM[key]
            raise BadInputError(f"{where(key)}: {key} must be at least {least}, got {value}")
    if "data" not in data:
        raise BadInputError(f"{where('data')}: the key 'data' is required")
    plain = {k: v for k, v in data.items() if k in _TYPES and k not in _CONVERTED}
    config = PipelineConfig(
        **plain,
        width=_width(where, data.get("width")),
        model=_model(where, data.get("model", "lenet5")),
        balance=_balance(where, data.get("balance", "none")),
        input_shape=_input_shape(where, data.get("input_shape")),
        prune_ratios=_ratios(where, data.get("prune_ratios", [0.0])),
        modes=_modes(where, data.get("modes", ["fp32", "int8"])),
        boards=_boards(where, data.get("boards", [])),
        budgets=_budgets(where, budgets),
    )
    _check_budget_boards(where, config)
    return config


def _check_budget_boards(where, config: PipelineConfig) -> None:
    for key in ("max_latency_ms", "max_arena_kb"):
        if getattr(config.budgets, key) is not None and not config.boards:
            raise BadInputError(
                f"{where(key)}: {key} is checked on target boards; name at least one in "
                "boards (edgecnn boards lists them)"
            )
    for board in config.budgets.per_board:
        if board not in config.boards:
            raise BadInputError(
                f"{where(board)}: [budgets.{board}] names a board that is not a target; "
                f"boards = {list(config.boards)}"
            )


_CONVERTED = {"model", "width", "balance", "input_shape", "prune_ratios", "modes", "boards"}


def _width(where, value) -> float | None:
    if value is not None and not 0 < value <= 8:
        raise BadInputError(f"{where('width')}: width must be in (0, 8], got {value}")
    return None if value is None else float(value)


def _balance(where, value: str) -> str:
    from edgecnn.training.data.balance import Balance

    known = [b.value for b in Balance]
    if value not in known:
        raise BadInputError(
            f"{where('balance')}: unknown balance {value!r}; choose from {', '.join(known)}"
        )
    return value


def _model(where, value: str) -> str:
    from edgecnn.training.models.registry import get_spec

    try:
        get_spec(value)
    except BadInputError as exc:
        raise BadInputError(f"{where('model')}: {exc}") from None
    return value


def _input_shape(where, value) -> tuple[int, ...] | None:
    if value is None:
        return None
    parts = value.lower().split("x") if isinstance(value, str) else value
    try:
        shape = tuple(int(p) if isinstance(p, str) else p for p in parts)
    except ValueError:
        shape = ()
    whole = all(isinstance(d, int) and not isinstance(d, bool) for d in shape)
    if not whole or not 1 <= len(shape) <= 3 or min(shape) < 1:
        raise BadInputError(
            f'{where("input_shape")}: input_shape must look like "32x32x3" or [32, 32, 3], '
            f"got {value!r}"
        )
    return shape


def _boards(where, values: list) -> tuple[str, ...]:
    from edgecnn.targets.boards import known_board_ids

    known = known_board_ids()
    for value in _strings(where, "boards", values):
        if value not in known:
            raise BadInputError(
                f"{where('boards')}: unknown board {value!r}; known: {', '.join(known)}"
            )
    return tuple(values)


def _check_type(where, key: str, value: Any, kinds: tuple[type, ...]) -> None:
    if isinstance(value, bool) or not isinstance(value, kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise BadInputError(f"{where(key)}: {key} must be {names}, got {value!r}")


def _ratios(where, values: list) -> tuple[float, ...]:
    """Distinct ratios in the order given; each names its files (``pruned-0.5``)."""
    names: dict[str, float] = {}
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
            raise BadInputError(
                f"{where('prune_ratios')}: each ratio must be in [0, 1) "
                f"(0 = not pruned), got {value!r}"
            )
        other = names.setdefault(f"{value:g}", float(value))
        if other != value:
            raise BadInputError(
                f"{where('prune_ratios')}: ratios {other!r} and {value!r} both name files "
                f"pruned-{value:g}; give ratios that differ in the first 6 digits"
            )
    return tuple(names.values()) or (0.0,)


def _modes(where, values: list) -> tuple[str, ...]:
    for value in _strings(where, "modes", values):
        if value not in MODES:
            raise BadInputError(
                f"{where('modes')}: unknown mode {value!r}; choose from {', '.join(MODES)}"
            )
    if not values:
        raise BadInputError(f'{where("modes")}: name at least one mode, e.g. ["int8"]')
    return tuple(dict.fromkeys(values))


def _strings(where, key: str, values: list) -> list[str]:
    if not all(isinstance(v, str) for v in values):
        raise BadInputError(f"{where(key)}: {key} must be a list of strings, got {values!r}")
    return values


def _budgets(where, table: dict) -> Budgets:
    """The ``[budgets]`` table; a sub-table named after a target board overrides there."""
    flat = {k: v for k, v in table.items() if not isinstance(v, dict)}
    per_board = {
        board: BoardBudgets(**_limits(where, sub, _BOARD_BUDGET_KEYS, f"budgets.{board}"))
        for board, sub in table.items()
        if isinstance(sub, dict)
    }
    return Budgets(**_limits(where, flat, _BUDGET_KEYS, "budgets"), per_board=per_board)


def _limits(where, table: dict, known: set[str], name: str) -> dict[str, float]:
    table = {k: v for k, v in table.items() if v is not None}  # None (from Python): unset
    for key, value in table.items():
        if key not in known:
            raise BadInputError(
                f"{where(key)}: unknown key {key!r} in [{name}]; known: {', '.join(sorted(known))}"
                + ("" if name != "budgets" else ", or a [budgets.<board id>] table")
            )
        _check_type(where, key, value, (int, float))
        if value < 0:
            raise BadInputError(f"{where(key)}: budget {key} must not be negative, got {value}")
    return {k: float(v) for k, v in table.items()}


# Keys whose command-line flag is singular (repeatable, or comma-separated).
_FLAG_NAMES = {"boards": "--board", "modes": "--mode", "prune_ratios": "--prune-ratio"}


class _Locator:
    """Turns a key into ``file, line N`` by finding where the TOML text sets it, or into
    ``--flag`` when a command-line flag set it."""

    def __init__(self, path: Path, text: str, *, flags: set[str] = frozenset()) -> None:
        self.path, self.lines, self.flags = path, text.splitlines(), flags

    def __call__(self, key: str) -> str:
        if key in self.flags:
            return _FLAG_NAMES.get(key, "--" + key.replace("_", "-"))
        pattern = re.compile(rf"^\s*(\[\s*)?([\w-]+\.)*{re.escape(key)}\s*(=|\])")
        for number, line in enumerate(self.lines, start=1):
            if pattern.match(line):
                return f"{self.path}, line {number}"
        return str(self.path)
