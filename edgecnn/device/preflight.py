"""What ``edgecnn run`` checks before it opens anything: its options, the bundle, the source.

``edgecnn service install`` runs the same checks, so a unit is never written for a command
line that ``run`` would refuse (systemd would restart it every few seconds, forever).
Device side: numpy and LiteRT only.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

from edgecnn.core.errors import BadInputError


@dataclass(frozen=True)
class RunOptions:
    """How ``run`` behaves (see ``edgecnn run --help``)."""

    threads: int | None = None
    smooth: int = 1
    threshold: float = 0.0
    on_change: bool = False
    min_interval: float = 0.0
    rate_hz: float | None = None
    max_windows: int | None = None
    metrics_every: float | None = None

    def __post_init__(self) -> None:
        check_options(self)  # refused here: before any model, source or sink is opened


def check_options(options: RunOptions) -> None:
    """Refuses option values ``run`` cannot use, naming the option and what would do.

    Raises:
        BadInputError: the first bad value.
    """
    checks = (
        ("--threads", options.threads, _at_least(options.threads, 1), "1 or more"),
        ("--smooth", options.smooth, _at_least(options.smooth, 1), "1 or more windows"),
        ("--threshold", options.threshold, 0 <= options.threshold <= 1, "between 0 and 1"),
        ("--min-interval", options.min_interval, _seconds(options.min_interval), "0 s or more"),
        ("--rate", options.rate_hz, _seconds(options.rate_hz), "0 or more samples/s (0 = at once)"),
        ("--max-windows", options.max_windows, _at_least(options.max_windows, 1), "1 or more"),
        ("--metrics-every", options.metrics_every, _positive(options.metrics_every), "above 0 s"),
    )
    for flag, value, ok, wanted in checks:
        if not ok:
            raise BadInputError(f"{flag} {value} is not usable; it must be {wanted}")


def check_run(
    model: str | os.PathLike, *, source: str, options: RunOptions, sinks: Sequence[str] = ()
) -> None:
    """Loads and verifies the bundle and opens the source's description, as ``run`` would.

    Nothing is read from a device and no sink is opened (their URIs are only parsed).

    Raises:
        BadInputError: what ``run`` would refuse before it starts.
    """
    from edgecnn.device.io.sinks import check_sink
    from edgecnn.device.io.sources import open_source
    from edgecnn.device.runner import Runner

    check_options(options)
    for sink in sinks:
        check_sink(sink)
    runner = Runner(model, threads=options.threads)
    try:
        open_source(source, runner.preprocessing, rate_hz=options.rate_hz)
    finally:
        runner.close()


def _at_least(value: int | None, low: int) -> bool:
    return value is None or value >= low


def _seconds(value: float | None) -> bool:
    """None (the default), or a finite value of 0 or more."""
    return value is None or (math.isfinite(value) and value >= 0)


def _positive(value: float | None) -> bool:
    return value is None or (math.isfinite(value) and value > 0)
