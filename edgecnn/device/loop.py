"""``edgecnn run``: source -> window -> preprocess -> infer -> smooth -> sinks.

Device side (numpy + LiteRT). SIGINT/SIGTERM finish the current window, flush the sinks and
end the run normally.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from edgecnn.core.console import to_stderr
from edgecnn.core.errors import BadInputError
from edgecnn.core.records import Record
from edgecnn.device.io.sinks import Buffered, open_sink
from edgecnn.device.io.sources import open_source
from edgecnn.device.post import Debounce, PostProcessor
from edgecnn.device.preflight import RunOptions
from edgecnn.device.runner import Runner
from edgecnn.device.windows import cut_windows

LATENCY_WINDOW = 10_000  # percentiles over the most recent windows: memory stays flat


@dataclass(frozen=True)
class RunSummary(Record):
    """What a run did."""

    windows: int
    emitted: int
    labelled: int
    correct: int
    dropped: int
    seconds: float
    first_result_s: float | None
    p50_infer_ms: float | None
    p99_infer_ms: float | None
    p50_feed_ms: float | None  # a window made model input: front end, scaling, quantizing
    p99_feed_ms: float | None
    p50_e2e_ms: float | None
    p99_e2e_ms: float | None
    sink_drops: int = 0  # results lost: a sink's queue was full, or a spool's bound reached
    sink_errors: int = 0  # failed sink writes, and results a server refused for good (4xx)
    undelivered: int = 0  # results still in a network sink's spool at exit (sent next run)
    sensor_errors: int = 0  # failed device reads and opens (retried), e.g. a busy microphone
    failure: str | None = None  # a sink failed every write: the run failed (exit 1)

    @property
    def accuracy(self) -> float | None:
        """Top-1 accuracy against the source's true labels, when it has them."""
        return self.correct / self.labelled if self.labelled else None

    def text(self) -> str:
        """The one summary line ``edgecnn run`` prints on stderr."""
        accuracy = "" if self.accuracy is None else f", accuracy {self.accuracy:.4f}"
        return (
            f"{self.windows} windows in {self.seconds:.2f}s{accuracy}; p50 feed "
            f"{self.p50_feed_ms} ms, inference {self.p50_infer_ms} ms; dropped samples "
            f"{self.dropped}, dropped results "
            f"{self.sink_drops}, sink errors {self.sink_errors}, undelivered {self.undelivered}"
        )

    def to_dict(self) -> dict:
        """The fields and the accuracy."""
        return super().to_dict() | {"accuracy": self.accuracy}


class _Stats:
    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.first: float | None = None
        self.windows = self.emitted = self.labelled = self.correct = 0
        self.infer: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self.feed: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self.e2e: deque[float] = deque(maxlen=LATENCY_WINDOW)

    def summary(
        self, dropped: int, sinks: Sequence[Buffered] = (), sensor_errors: int = 0
    ) -> RunSummary:
        def pct(values, q):
            return round(float(np.percentile(values, q)), 4) if values else None

        return RunSummary(
            windows=self.windows,
            emitted=self.emitted,
            labelled=self.labelled,
            correct=self.correct,
            dropped=dropped,
            seconds=round(time.perf_counter() - self.started, 3),
            first_result_s=None if self.first is None else round(self.first, 4),
            p50_infer_ms=pct(self.infer, 50),
            p99_infer_ms=pct(self.infer, 99),
            p50_feed_ms=pct(self.feed, 50),
            p99_feed_ms=pct(self.feed, 99),
            p50_e2e_ms=pct(self.e2e, 50),
            p99_e2e_ms=pct(self.e2e, 99),
            sink_drops=sum(sink.lost for sink in sinks),
            sink_errors=sum(sink.errors + sink.rejected for sink in sinks),
            undelivered=sum(sink.pending for sink in sinks),
            sensor_errors=sensor_errors,
            failure="; ".join(_failures(sinks)) or None,
        )


def run(
    model_path: str,
    *,
    source: str,
    sinks: Sequence[str] = ("stdout",),
    options: RunOptions = RunOptions(),  # noqa: B008 - frozen: one shared default is safe
    log: Callable[[str], None] | None = None,
) -> RunSummary:
    """Runs the model on a source until it ends, ``max_windows``, or SIGINT/SIGTERM.

    What a sink could not do is logged at the end, one line each; a sink that failed every
    write sets the summary's ``failure``.

    Raises:
        BadInputError: a bad model bundle, source or sink URI (before anything runs), or a
            login a broker refuses (the run stops; the results stay in the spool).
    """
    log = log or to_stderr
    runner = Runner(model_path, threads=options.threads)
    pre = runner.preprocessing
    src = open_source(source, pre, rate_hz=options.rate_hz)
    stop = src.stop  # a signal also ends a live source's wait for data
    # A replayed file can wait for a slow sink (nothing is lost); a live sensor cannot.
    backpressure = stop if src.recorded else None
    outputs = [open_sink(uri, backpressure=backpressure, stopping=stop) for uri in sinks]
    post = PostProcessor(runner.labels, smooth=options.smooth, threshold=options.threshold)
    restore = _handle_signals(stop)
    stats = _Stats()
    try:
        _loop(runner, src, post, outputs, options, stats, stop, log)
    finally:
        restore()
        close_all(outputs)
    return _finish(stats, src.stats, outputs, log)


def close_all(outputs: Sequence[Buffered]) -> None:
    """Closes every sink at the same time, even when closing one of them raises.

    Side by side, not one after another: each network sink may take a moment to give up an
    attempt under way, and a stop must not take that moment once per sink.
    """
    errors: list[BaseException] = []

    def close(sink: Buffered) -> None:
        try:
            sink.close()
        except BaseException as exc:  # re-raised below, once every sink is closed
            errors.append(exc)

    others = [threading.Thread(target=close, args=(sink,)) for sink in outputs[1:]]
    for thread in others:
        thread.start()
    if outputs:
        close(outputs[0])
    for thread in others:
        thread.join()
    if errors:
        raise errors[0]


def _finish(stats: _Stats, source_stats, outputs: list[Buffered], log) -> RunSummary:
    """Says what the sinks could not do; a refused login ends the run as bad input."""
    for sink in outputs:
        for line in sink.notes():
            log(line)
    if fatal := _fatal(outputs):
        raise BadInputError(fatal)
    return stats.summary(source_stats.dropped, outputs, source_stats.errors)


def _fatal(outputs: list[Buffered]) -> str | None:
    return next((sink.fatal for sink in outputs if sink.fatal), None)


def _failures(outputs: Sequence[Buffered]) -> list[str]:
    return [
        f"sink {s.name} failed every write ({s.errors} errors, nothing written): {s.last_error}"
        if s.errors
        else f"sink {s.name}: the server refused every result ({s.rejected})"
        for s in outputs
        if s.failed_every_write()
    ]


def _loop(runner, src, post, outputs, options, stats, stop, log) -> None:
    debounce = Debounce(min_interval=options.min_interval)
    next_metrics = time.monotonic() + (options.metrics_every or float("inf"))
    for window, truth in cut_windows(src, runner.preprocessing):
        if stop.is_set():  # a signal arrived while waiting for data: nothing half-done
            break
        arrived = time.perf_counter()
        tensor = runner.feed(window)
        started = time.perf_counter()
        stats.feed.append(1000 * (started - arrived))
        decision = post(runner.infer(tensor))
        stats.infer.append(1000 * (time.perf_counter() - started))
        _record(stats, decision.label, truth)
        if not options.on_change or debounce.should_emit(decision.label, time.monotonic()):
            _emit(outputs, stats, decision, truth)
        stats.e2e.append(1000 * (time.perf_counter() - arrived))
        if time.monotonic() >= next_metrics:
            log(_metrics_line(stats, src.stats, outputs))
            next_metrics = time.monotonic() + options.metrics_every
        if stop.is_set() or stats.windows == options.max_windows:
            break
        if _fatal(outputs):  # e.g. a refused login: waiting cannot fix it
            break


def _record(stats: _Stats, label: str, truth: str | None) -> None:
    stats.windows += 1
    if stats.first is None:
        stats.first = time.perf_counter() - stats.started
    if truth is not None:
        stats.labelled += 1
        stats.correct += int(label == truth)


def _emit(outputs: list[Buffered], stats: _Stats, decision, truth: str | None) -> None:
    result = {
        "t": round(time.time(), 3),
        "window": stats.windows,
        "label": decision.label,
        "score": decision.score,
        "top": decision.top,
    }
    if truth is not None:
        result["truth"] = truth
    for sink in outputs:
        sink.write(result)
    stats.emitted += 1


def _metrics_line(stats: _Stats, source_stats, outputs: list[Buffered]) -> str:
    s = stats.summary(source_stats.dropped, outputs)
    rate = s.windows / s.seconds if s.seconds else 0.0
    return (
        f"metrics: {s.windows} windows ({rate:.1f}/s), feed p50 {s.p50_feed_ms} ms, "
        f"inference p50 {s.p50_infer_ms} ms p99 {s.p99_infer_ms} ms, "
        f"end-to-end p50 {s.p50_e2e_ms} ms p99 {s.p99_e2e_ms} ms, "
        f"dropped samples {s.dropped}, sensor errors {source_stats.errors}, "
        f"dropped results {s.sink_drops}, sink errors {s.sink_errors}, "
        f"spool depth {s.undelivered} (undelivered)"
    )


def _handle_signals(stop: threading.Event) -> Callable[[], None]:
    """SIGINT/SIGTERM set ``stop``; returns a function restoring the old handlers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda *_: stop.set())

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore
