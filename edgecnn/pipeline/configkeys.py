"""The keys of ``edgecnn.toml``: their types and minimums, and the check of each value.

Every check takes ``where``, a callable that turns a key into the place that set it
(``edgecnn.toml, line 3`` or ``--board``), so each error points at the line to fix.
"""

from __future__ import annotations

from typing import Any

from edgecnn.core.errors import BadInputError
from edgecnn.core.modes import MODES, Mode
from edgecnn.core.shapes import parse_shape

# The order here is the order the "known keys" of an error message list them in.
KEY_TYPES: dict[str, tuple[type, ...]] = {
    "data": (str,),
    "model": (str,),
    "models": (list,),
    "epochs": (int,),
    "seed": (int,),
    "batch_size": (int,),
    "width": (int, float),
    "patience": (int,),
    "augment": (str,),
    "label_smoothing": (int, float),
    "balance": (str,),
    "input_shape": (list, str),
    "window": (int,),
    "hop": (int,),
    "label_column": (str,),
    "clip_ms": (int,),
    "audio_classes": (list,),
    "audio_features": (str,),
    "prune_ratios": (list,),
    "finetune_epochs": (int,),
    "modes": (list,),
    "calibration_samples": (int,),
    "boards": (list,),
    "bench_runs": (int,),
}
# Keys whose value must be at least this (0 = non-negative).
MINIMUM = {
    "epochs": 1, "batch_size": 1, "patience": 1, "window": 1, "hop": 1, "clip_ms": 1,
    "finetune_epochs": 0, "calibration_samples": 10, "bench_runs": 1, "label_smoothing": 0,
}  # fmt: skip
# Keys whose value must stay below this.
BELOW = {"label_smoothing": 1}
# Keys whose value is converted (or checked further) before it reaches PipelineConfig.
CONVERTED = {
    "model", "models", "width", "balance", "input_shape", "prune_ratios", "modes", "boards",
    "audio_classes",
}  # fmt: skip


def check_key(where, key: str, value: Any) -> None:
    """Refuses an unknown key, a value of the wrong type or one below the key's minimum."""
    if key not in KEY_TYPES:
        raise BadInputError(
            f"{where(key)}: unknown key {key!r}; known keys: {', '.join([*KEY_TYPES, 'budgets'])}"
        )
    check_type(where, key, value, KEY_TYPES[key])
    if key in MINIMUM and value < MINIMUM[key]:
        least = MINIMUM[key]
        raise BadInputError(f"{where(key)}: {key} must be at least {least}, got {value}")
    if key in BELOW and value >= BELOW[key]:
        raise BadInputError(f"{where(key)}: {key} must be below {BELOW[key]}, got {value}")


def check_windows(where, models: tuple[str, ...], data: str, window: int) -> None:
    """Refuses, before any training, a sensor CSV window shorter than a family's minimum."""
    from edgecnn.training.models.registry import InputKind, get_spec

    if not data.lower().endswith(".csv"):
        return  # images and arrays bring their own shapes; training checks those
    for spec in map(get_spec, models):
        if spec.kind == InputKind.SEQUENCE and window < spec.min_input[0]:
            raise BadInputError(
                f"{where('window')}: model {spec.name} needs windows of at least "
                f"{spec.min_input[0]} samples, got window = {window}"
            )


def check_type(where, key: str, value: Any, kinds: tuple[type, ...]) -> None:
    """Refuses a value that is not one of ``kinds`` (a bool is never a number here)."""
    if isinstance(value, bool) or not isinstance(value, kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise BadInputError(f"{where(key)}: {key} must be {names}, got {value!r}")


def to_width(where, value) -> float | None:
    """The model's width multiplier, in (0, 8]."""
    if value is not None and not 0 < value <= 8:
        raise BadInputError(f"{where('width')}: width must be in (0, 8], got {value}")
    return None if value is None else float(value)


def to_balance(where, value: str) -> str:
    """A known class-balancing method."""
    from edgecnn.training.data.balance import Balance

    known = [b.value for b in Balance]
    if value not in known:
        raise BadInputError(
            f"{where('balance')}: unknown balance {value!r}; choose from {', '.join(known)}"
        )
    return value


def to_models(where, data: dict[str, Any]) -> tuple[str, ...]:
    """The zoo families of ``model = "x"`` or ``models = ["x", "y"]`` (default lenet5), each
    once, by its registry name; all take one kind of input, as one data set is one kind."""
    if "model" in data and "models" in data:
        raise BadInputError(
            f"{where('models')}: give model or models, not both; "
            f'models = ["{data["model"]}", ...] tries one family or several'
        )
    key = "models" if "models" in data else "model"
    values = data["models"] if key == "models" else [data.get("model", "lenet5")]
    specs = [_spec(where, key, value) for value in _strings(where, key, values)]
    if not specs:
        raise BadInputError(f'{where(key)}: name at least one model family, e.g. ["cnn1d"]')
    _one_kind(where, key, specs)
    return tuple(dict.fromkeys(spec.name for spec in specs))


def _spec(where, key: str, value: str):
    from edgecnn.training.models.registry import get_spec

    try:
        return get_spec(value)
    except BadInputError as exc:  # its message names the known families
        raise BadInputError(f"{where(key)}: {exc}") from None


_INPUTS = {"image": "images (HxWxC)", "sequence": "sensor windows (TxC)"}


def _one_kind(where, key: str, specs: list) -> None:
    """Refuses image and sequence families together: one data set feeds only one kind."""
    from edgecnn.training.models.registry import MODELS

    kinds = {str(spec.kind): spec.name for spec in specs}
    if len(kinds) > 1:
        which = " but ".join(f"{name} takes {_INPUTS[kind]}" for kind, name in kinds.items())
        known = "; ".join(
            f"{kind}: " + ", ".join(s.name for s in MODELS.values() if str(s.kind) == kind)
            for kind in kinds
        )
        raise BadInputError(
            f"{where(key)}: {which}, and one data set is of one kind; "
            f"list families of one kind ({known})"
        )


def to_input_shape(where, value) -> tuple[int, ...] | None:
    """An input shape given as ``"32x32x3"``, ``"32,32,3"`` or ``[32, 32, 3]``."""
    if value is None:
        return None
    try:
        return parse_shape(value)
    except BadInputError as exc:
        raise BadInputError(f"{where('input_shape')}: {exc}") from None


def to_boards(where, values: list) -> tuple[str, ...]:
    """Known board ids."""
    from edgecnn.targets.boards import known_board_ids

    known = known_board_ids()
    for value in _strings(where, "boards", values):
        if value not in known:
            raise BadInputError(
                f"{where('boards')}: unknown board {value!r}; known: {', '.join(known)}"
            )
    return tuple(values)


def to_ratios(where, values: list) -> tuple[float, ...]:
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


def to_modes(where, values: list) -> tuple[Mode, ...]:
    """At least one known quantization mode, each once, in the order given."""
    for value in _strings(where, "modes", values):
        if value not in MODES:
            raise BadInputError(
                f"{where('modes')}: unknown mode {value!r}; choose from {', '.join(MODES)}"
            )
    if not values:
        raise BadInputError(f'{where("modes")}: name at least one mode, e.g. ["int8"]')
    return tuple(Mode(v) for v in dict.fromkeys(values))


def _strings(where, key: str, values: list) -> list[str]:
    if not all(isinstance(v, str) for v in values):
        raise BadInputError(f"{where(key)}: {key} must be a list of strings, got {values!r}")
    return values


def to_words(where, value) -> tuple[str, ...] | None:
    """``audio_classes``: distinct, non-empty target words."""
    if value is None:
        return None
    words = tuple(_strings(where, "audio_classes", value))
    if not words or not all(w.strip() for w in words) or len(set(words)) != len(words):
        raise BadInputError(
            f'{where("audio_classes")}: audio_classes must list distinct words, e.g. '
            f'["yes", "no"]; got {value!r}'
        )
    return words
