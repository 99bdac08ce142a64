"""The pipeline configuration: ``edgecnn.toml`` checked key by key, with line numbers.

The keys' types and value checks live in ``configkeys``, the budgets in ``budgets``; this
module reads the file (or the command-line flags) and builds the :class:`PipelineConfig`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgecnn.core import fileio
from edgecnn.core.errors import BadInputError
from edgecnn.core.modes import Mode
from edgecnn.core.records import Record
from edgecnn.pipeline.budgets import (
    BoardBudgets,
    Budgets,
    budget_table,
    check_budget_boards,
    parse_budgets,
)
from edgecnn.pipeline.configkeys import (
    CONVERTED,
    KEY_TYPES,
    MODES,
    check_key,
    check_windows,
    to_balance,
    to_boards,
    to_input_shape,
    to_models,
    to_modes,
    to_ratios,
    to_width,
    to_words,
)
from edgecnn.training.trainconfig import TrainConfig

__all__ = [
    "MODES",
    "BoardBudgets",
    "Budgets",
    "PipelineConfig",
    "load_config",
    "merge",
    "parse_config",
    "parse_flags",
]


@dataclass(frozen=True)
class PipelineConfig(Record):
    """What to train, which variants to make, where they must run and within what budgets.

    ``models`` holds one or more zoo families (``model = "x"`` in TOML is one); with several,
    each is trained, pruned and quantized, and the choice ranks all their variants together.
    """

    data: str
    models: tuple[str, ...] = ("lenet5",)
    epochs: int | None = None  # None: training's automatic budget (training.schedule)
    seed: int = 0
    batch_size: int = 32
    width: float | None = None
    patience: int | None = None
    augment: str | None = None
    label_smoothing: float = TrainConfig.label_smoothing
    balance: str = "none"
    input_shape: tuple[int, ...] | None = None
    window: int = 128
    hop: int | None = None
    label_column: str = "label"
    clip_ms: int = 1000
    audio_classes: tuple[str, ...] | None = None
    audio_features: str | None = None
    prune_ratios: tuple[float, ...] = (0.0,)
    finetune_epochs: int = 3
    modes: tuple[Mode, ...] = (Mode.FP32, Mode.INT8)
    calibration_samples: int = 300
    boards: tuple[str, ...] = ()
    bench_runs: int = 50
    budgets: Budgets = field(default_factory=Budgets)

    @property
    def model(self) -> str:
        """The first (usually the only) model family."""
        return self.models[0]


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
        fileio.check_utf8(path, "config")
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


def config_from(*, path: str | Path | None = None, flags: dict[str, Any]) -> PipelineConfig:
    """``edgecnn pipeline``'s config: the TOML file with the flags over it, or the flags
    alone (which must then name at least the data).

    Raises:
        BadInputError: neither a file nor ``data``, plus what :func:`load_config` and
            :func:`parse_flags` raise.
    """
    if path:
        return load_config(path, overrides=flags)
    if "data" not in flags:
        raise BadInputError("give --config edgecnn.toml or at least --data")
    return parse_flags(flags)


def _flag_keys(flags: dict[str, Any]) -> set[str]:
    return set(flags) | set(flags.get("budgets") or {})


def merge(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``data`` with ``overrides`` on top; budgets merge one by one (a file's ``budgets``
    that is not a table is left for :func:`parse_config` to refuse), and ``model`` or
    ``models`` given as an override replaces both of the file's."""
    if {"model", "models"} & set(overrides):
        data = {k: v for k, v in data.items() if k not in ("model", "models")}
    merged = dict(data) | {k: v for k, v in overrides.items() if k != "budgets"}
    base = data.get("budgets", {})
    if overrides.get("budgets") and isinstance(base, dict):
        merged["budgets"] = base | overrides["budgets"]
    return merged


def parse_config(data: dict[str, Any], *, where: _Locator | None = None) -> PipelineConfig:
    """Checks a config dict (from TOML or built in Python)."""
    where = where or _Locator(Path("<config>"), "")
    data = {k: v for k, v in data.items() if v is not None}  # None (from Python): unset
    budgets = budget_table(where, data.get("budgets", {}))
    for key, value in data.items():
        if key != "budgets":
            check_key(where, key, value)
    if "data" not in data:
        raise BadInputError(f"{where('data')}: the key 'data' is required")
    config = _build(where, data, budgets)
    check_budget_boards(where, config.budgets, config.boards)
    check_windows(where, config.models, config.data, config.window)
    return config


def _build(where, data: dict[str, Any], budgets: dict) -> PipelineConfig:
    """The config of checked keys, converting those that need more than a type check."""
    plain = {k: v for k, v in data.items() if k in KEY_TYPES and k not in CONVERTED}
    return PipelineConfig(
        **plain,
        width=to_width(where, data.get("width")),
        models=to_models(where, data),
        balance=to_balance(where, data.get("balance", "none")),
        input_shape=to_input_shape(where, data.get("input_shape")),
        audio_classes=to_words(where, data.get("audio_classes")),
        prune_ratios=to_ratios(where, data.get("prune_ratios", [0.0])),
        modes=to_modes(where, data.get("modes", ["fp32", "int8"])),
        boards=to_boards(where, data.get("boards", [])),
        budgets=parse_budgets(where, budgets),
    )


# Keys whose command-line flag is singular (repeatable, or comma-separated).
_FLAG_NAMES = {
    "boards": "--board", "modes": "--mode", "prune_ratios": "--prune-ratio", "models": "--model",
}  # fmt: skip


class _Locator:
    """Turns a key into ``file, line N`` by finding where the TOML text sets it, or into
    ``--flag`` when a command-line flag set it."""

    def __init__(
        self, path: Path, text: str, *, flags: set[str] = frozenset(), table: str | None = None
    ) -> None:
        self.path, self.lines, self.flags, self.table = path, text.splitlines(), flags, table

    def within(self, table: str) -> _Locator:
        """Looks keys up inside ``[table]`` first: ``[budgets.rpi-4b]`` repeats the keys of
        ``[budgets]``, and the error must name the line that is wrong."""
        flags = self.flags if table == "budgets" else frozenset()  # flags set [budgets] only
        return _Locator(self.path, "\n".join(self.lines), flags=flags, table=table)

    def __call__(self, key: str) -> str:
        if key in self.flags:
            return _FLAG_NAMES.get(key, "--" + key.replace("_", "-"))
        pattern = re.compile(rf"^\s*(\[\s*)?([\w-]+\.)*{re.escape(key)}\s*(=|\])")
        for numbered in (self._in_table(), enumerate(self.lines, start=1)):
            for number, line in numbered:
                if pattern.match(line):
                    return f"{self.path}, line {number}"
        return str(self.path)

    def _in_table(self) -> list[tuple[int, str]]:
        """The numbered lines of ``[table]`` (none without a table)."""
        found, inside = [], False
        for number, line in enumerate(self.lines, start=1):
            if line.lstrip().startswith("["):
                header = re.sub(r"[\s\"']", "", line.split("#")[0])
                inside = header == f"[{self.table}]"
            elif inside:
                found.append((number, line))
        return found
