"""The closed choices and option checks of pruning (plain Python: importing it is cheap)."""

from __future__ import annotations

import math
import numbers
from enum import StrEnum
from typing import Any

from edgecnn.core.errors import BadInputError


class Method(StrEnum):
    """How weights are removed."""

    STRUCTURED = "structured"  # whole filters/channels: a thinner, faster model
    MAGNITUDE = "magnitude"  # single weights set to zero: same shape, compresses better


class Scope(StrEnum):
    """How the structured-pruning ratio is shared among channel groups."""

    LAYER = "layer"  # every prunable group loses the same fraction
    GLOBAL = "global"  # one threshold on normalized scores across all groups


class Criterion(StrEnum):
    """How the importance of a channel is scored."""

    L1 = "l1"  # L1 norm of the producing kernel's filter
    BN = "bn"  # |gamma| of the BatchNormalization that follows (L1 where none does)


def parse_choice(enum: type[StrEnum], value: Any, option: str) -> Any:
    """Converts a string (any case) to a member of ``enum``.

    Raises:
        BadInputError: naming the option, the value and the accepted choices.
    """
    try:
        return enum(str(value).strip().lower())
    except ValueError:
        choices = ", ".join(member.value for member in enum)
        raise BadInputError(f"{option} must be one of {choices}; got {value!r}") from None


def check_ratio(value: Any, *, option: str = "ratio") -> float:
    """Checks a pruning ratio or sparsity is a number strictly between 0 and 1.

    Raises:
        BadInputError: naming the option and the value received.
    """
    if not _is_real(value) or not 0 < value < 1:
        raise BadInputError(
            f"{option} must be a fraction strictly between 0 and 1 (e.g. 0.5); got {value!r}"
        )
    return float(value)


def check_fraction(value: Any, *, option: str, allow_zero: bool, allow_one: bool) -> float:
    """Checks a number lies in [0, 1], with each end included only when allowed.

    Raises:
        BadInputError: naming the option, the value and the accepted range.
    """
    inside = _is_real(value) and (value >= 0 if allow_zero else value > 0)
    inside = inside and (value <= 1 if allow_one else value < 1)
    if not inside:
        span = f"{'[' if allow_zero else '('}0, 1{']' if allow_one else ')'}"
        raise BadInputError(f"{option} must be in {span}; got {value!r}")
    return float(value)


def check_int(value: Any, *, option: str, minimum: int) -> int:
    """Checks an integer option is at least ``minimum``.

    Raises:
        BadInputError: naming the option and the value received.
    """
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise BadInputError(f"{option} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def check_positive(value: Any, *, option: str) -> float:
    """Checks a real option is finite and greater than zero.

    Raises:
        BadInputError: naming the option and the value received.
    """
    if not _is_real(value) or not value > 0 or math.isinf(value):
        raise BadInputError(f"{option} must be a number greater than 0; got {value!r}")
    return float(value)


def _is_real(value: Any) -> bool:
    # bool is an int to Python but never a meaningful ratio; NaN fails every comparison.
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
