"""Progress and log lines for people, on stderr so that --json output on stdout stays clean."""

from __future__ import annotations

import sys
from typing import IO, Any


def to_stderr(line: str) -> None:
    """Writes one line to stderr at once (runs are watched live)."""
    print(line, file=sys.stderr, flush=True)


def progress_bar(length: int, *, label: str, stream: IO[str] | None = None) -> Any:
    """The one progress bar of edgecnn: click's, on stderr, for work of known length.

    Returns a started bar; call ``update(n)`` as work is done and ``finish_line()`` at the
    end. Callers show it only on a terminal: logs get their one line per step instead.
    """
    import click  # a base dependency; imported here so the core stays cheap to import

    bar = click.progressbar(
        length=length, label=label, file=stream or sys.stderr, show_pos=True, width=30
    )
    bar.__enter__()
    bar.finish_line = lambda: bar.__exit__(None, None, None)
    return bar
