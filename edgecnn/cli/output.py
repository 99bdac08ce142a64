"""Output helpers the verbs share: JSON on stdout, a result as JSON or a table, sizes.

Also the ``--input-shape`` option callback. Only click is imported at module level:
``edgecnn --help`` must stay fast.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from edgecnn.core.errors import BadInputError


def print_json(data) -> None:
    """``data`` as indented JSON on stdout."""
    click.echo(json.dumps(data, indent=2))


def echo_result(result, as_json: bool, print_table: Callable[[Any], None]) -> None:
    """Prints ``result.to_dict()`` as JSON with ``--json``, else ``print_table(result)``."""
    if as_json:
        print_json(result.to_dict())
    else:
        print_table(result)


def size_text(n: int) -> str:
    """A byte count for people: ``1.5 MiB``, ``12 KiB``."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n / 1024:.3g} KiB"


def shape_callback(ctx, param, value):
    """Click callback for ``--input-shape``: ``32x32x3`` -> (32, 32, 3); None stays None."""
    if value is None:
        return None
    from edgecnn.core.shapes import parse_shape

    try:
        return parse_shape(value)
    except BadInputError as exc:
        raise click.BadParameter(str(exc)) from None
