"""Parsing input shapes (``32x32x3``, ``32,32,3``, ``[32, 32, 3]``) and comma lists.

The command line, ``edgecnn.toml`` and the Python API all read shapes and lists here, so
each accepts the same spellings and refuses with the same message.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from edgecnn.core.errors import BadInputError, ModelError

SHAPE_HELP = (
    'input_shape must look like "32x32x3", "32,32,3" or [32, 32, 3]: 1 to 3 positive sizes '
    "(images: height x width x channels; windows: samples x channels)"
)

# Values in one input sample edgecnn builds, estimates or runs a model for (e.g. 2048x2048x1
# or 1024x1024x4). These are models for Pis and microcontrollers; far larger inputs only
# exhaust the memory of the machine at hand (a lenet5 head at 100000x100000x3 wants
# terabytes; 20000x20000x3 in estimate needs a 10 GB im2col buffer).
MAX_INPUT_VALUES = 2**22


def check_input_size(shape: tuple[int, ...]) -> None:
    """Refuses an input shape too large for edgecnn's models, before anything is allocated.

    Raises:
        ModelError: more than :data:`MAX_INPUT_VALUES` values per sample.
    """
    values = math.prod(shape)
    if values > MAX_INPUT_VALUES:
        raise ModelError(
            f"input shape {format_shape(shape)} has {values:,} values per sample; edgecnn "
            f"works with at most {MAX_INPUT_VALUES:,} (e.g. 2048x2048x1 or 1024x1024x4)"
        )


def parse_shape(value: Any) -> tuple[int, ...]:
    """``"32x32x3"``, ``"32,32,3"``, ``"128x6"`` or a list/tuple of sizes as a tuple of ints.

    Raises:
        BadInputError: not 1 to 3 positive whole sizes.
    """
    if isinstance(value, str):
        parts: list[Any] = re.split(r"\s*[x,]\s*", value.strip().lower())
    elif isinstance(value, list | tuple):
        parts = list(value)
    else:
        parts = []
    sizes = [_size(p) for p in parts]
    if not 1 <= len(sizes) <= 3 or None in sizes:
        raise BadInputError(f"not an input shape: {value!r}; {SHAPE_HELP}")
    return tuple(sizes)


def _size(part: Any) -> int | None:
    """One positive size (an int, or its digits as text), else None."""
    if isinstance(part, str) and part.isascii() and part.isdigit():  # not "²": int() refuses it
        part = int(part)
    if isinstance(part, bool) or not hasattr(part, "__index__"):
        return None  # floats, None, text that is not digits
    size = part.__index__()
    return size if size >= 1 else None


def parse_list(value: str | Iterable[str] | None, *, keep_empty: bool = False) -> tuple[str, ...]:
    """Comma lists as items: ``"a, b"`` and ``["a,b", "c"]`` (a repeated flag) alike.

    Items are stripped; empty ones are dropped unless ``keep_empty`` (for callers that
    refuse them). None is an empty list.
    """
    texts = [] if value is None else [value] if isinstance(value, str) else list(value)
    items = tuple(item.strip() for text in texts for item in str(text).split(","))
    return items if keep_empty else tuple(item for item in items if item)


def format_shape(shape: tuple[int | None, ...]) -> str:
    """Formats a shape as ``32x32x3`` (``?`` for unknown sizes)."""
    return "x".join("?" if s is None else str(s) for s in shape)
