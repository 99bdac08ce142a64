"""Progress and log lines for people, on stderr so that --json output on stdout stays clean."""

import sys


def to_stderr(line: str) -> None:
    """Writes one line to stderr at once (runs are watched live)."""
    print(line, file=sys.stderr, flush=True)
