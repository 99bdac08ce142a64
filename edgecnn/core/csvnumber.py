"""Numbers in CSV and text rows, read strictly (not with Python's own float syntax)."""

from __future__ import annotations

import re

# A CSV number: ASCII digits with an optional sign, point and exponent, spaces or tabs around
# it; nan and inf by name (their rows are then dropped as not finite). Not Python's float()
# syntax: no "1_0", no full-width or Arabic-Indic digits, no non-breaking spaces.
_CSV_NUMBER = re.compile(
    r"[ \t]*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|nan|inf|infinity)[ \t]*",
    re.IGNORECASE | re.ASCII,
)


def csv_number(text: str) -> float:
    """One number of a CSV or text row (``-1.5``, ``2e-3``, ``nan``), strictly.

    Raises:
        ValueError: anything else, including spellings only Python accepts (``1_0``).
    """
    if not _CSV_NUMBER.fullmatch(text):
        raise ValueError(f"{text!r} is not a number")
    return float(text)
