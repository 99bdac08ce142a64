"""The ``edgecnn`` click group, its error handling and shared helpers.

Library modules are imported inside each command so that ``edgecnn --help`` stays fast and
never imports TensorFlow.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from edgecnn import __version__
from edgecnn.core.errors import BadInputError, EdgecnnError


class _Group(click.Group):
    """Turns EdgecnnError into one line on stderr and its exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except EdgecnnError as exc:
            click.echo(f"edgecnn: error: {exc}", err=True)
            ctx.exit(exc.exit_code)


def _shape(ctx, param, value):
    if value is None:
        return None
    from edgecnn.core.shapes import parse_shape

    try:
        return parse_shape(value)
    except BadInputError as exc:
        raise click.BadParameter(str(exc)) from None


def _print_json(data) -> None:
    click.echo(json.dumps(data, indent=2))


def _echo_result(result, as_json: bool, print_table: Callable[[Any], None]) -> None:
    """Prints ``result.to_dict()`` as JSON with ``--json``, else ``print_table(result)``."""
    if as_json:
        _print_json(result.to_dict())
    else:
        print_table(result)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edgecnn")
def cli() -> None:
    """Train, prune, quantize and deploy small CNNs to Raspberry Pis and microcontrollers.

    \b
    Start with:  edgecnn demo
    Then:        edgecnn pipeline --data DATA --board rpi-zero-2w --max-latency-ms 10
    Or verb by verb: train, prune, quantize, benchmark, estimate, export, run.
    """


def _size_text(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n / 1024:.3g} KiB"


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="edgecnn")
