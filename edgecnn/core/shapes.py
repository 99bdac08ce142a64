"""Parsing and describing input shapes such as ``32x32x3`` or ``128,6``."""

from __future__ import annotations

import re

from edgecnn.core.errors import BadInputError


def parse_shape(text: str) -> tuple[int, ...]:
    """Parses ``"32x32x3"``, ``"32,32,3"`` or ``"128x6"`` into a tuple of positive ints.

    Raises:
        BadInputError: when the text is not 1 to 3 positive integers.
    """
    parts = re.split(r"\s*[x,]\s*", text.strip().lower())
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise BadInputError(
            f"input shape {text!r} is not valid; give 2 or 3 positive sizes like "
            "32x32x3 (images: height x width x channels) or 128x6 (windows: samples x channels)"
        )
    return tuple(int(p) for p in parts)


def format_shape(shape: tuple[int | None, ...]) -> str:
    """Formats a shape as ``32x32x3`` (``?`` for unknown sizes)."""
    return "x".join("?" if s is None else str(s) for s in shape)
