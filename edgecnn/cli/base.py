"""The ``edgecnn`` click group and its error handling (shared output helpers: ``output``).

Library modules are imported inside each command so that ``edgecnn --help`` stays fast and
never imports TensorFlow.
"""

from __future__ import annotations

import click

from edgecnn import __version__
from edgecnn.core.errors import EdgecnnError


class _Group(click.Group):
    """Turns EdgecnnError into one line on stderr and its exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except EdgecnnError as exc:
            click.echo(f"edgecnn: error: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edgecnn")
def cli() -> None:
    """Train, prune, quantize and deploy small CNNs to Raspberry Pis and microcontrollers.

    \b
    Start with:  edgecnn demo
    Then:        edgecnn pipeline --data DATA --board rpi-zero-2w --max-latency-ms 10
    Or verb by verb: train, prune, quantize, benchmark, estimate, export, run.
    """


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="edgecnn")
