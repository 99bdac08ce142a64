"""The base of the network sinks: each result goes through a durable :class:`Spool`.

``write_many`` only appends to the spool (one commit per batch, so a model emitting thousands
of results a second does not outrun the disk); a sender thread sends the oldest records,
deletes them once the far end confirmed them (PUBACK, HTTP 2xx), and on failure retries with
a bounded exponential backoff. Order is kept and nothing is lost short of the spool bound;
delivery is at-least-once (a confirmation lost in transit means the record is sent again).

Nothing fails silently: the first failure and the recovery are logged; a record the server
refuses for good (HTTP 4xx) is logged, counted in ``rejected`` and given up; ``notes`` says at
the end what is still undelivered and where it waits; a login the broker refuses sets
``fatal`` (retrying cannot fix it). Passwords never appear in any of these messages.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Sequence

from edgecnn.device.io.base import Sink, redact_uri, uri_secrets
from edgecnn.device.io.spool import Spool

BACKOFF_FIRST_S = 0.2
BACKOFF_MAX_S = 5.0
DRAIN_TIMEOUT_S = 5.0
SEND_TIMEOUT_S = 5.0
DRAIN_STALL_S = 2.0  # at the end of input, close stops waiting once nothing settled this long
STOP_GRACE_S = 0.3  # then how long an attempt under way may finish before it is given up
SEND_BATCH = 500  # records read from the spool, sent, and deleted together

log = logging.getLogger(__name__)


class Refused(Exception):
    """The far end refused this record for good (e.g. HTTP 400): retrying cannot help."""


class SpoolSink(Sink):
    """Base class: spools each result; a thread sends them in order through :meth:`send`.

    ``send_batch`` records are read, sent and deleted together (a sink that pipelines, such as
    MQTT, wants many; one that waits for each answer deletes each as it is confirmed).
    """

    send_batch = SEND_BATCH

    def __init__(
        self,
        uri: str,
        spool: Spool,
        *,
        drain_timeout: float | None = None,
        secrets: Sequence[str] = (),
        stopping: threading.Event | None = None,
    ) -> None:
        """Starts the sender thread.

        Args:
            uri: the sink URI (shown with its credentials redacted, its secrets hidden).
            spool: where results wait for their confirmation.
            drain_timeout: how long ``close`` waits for the spool to empty [DRAIN_TIMEOUT_S].
            secrets: more values to hide (e.g. the percent-decoded password).
            stopping: set when the run was asked to stop (a signal): ``close`` then waits for
                nothing and spools what is unsent.
        """
        self.name, self.spool = redact_uri(uri), spool
        # Longest first: a secret that contains another is hidden whole.
        self._secrets = sorted({*uri_secrets(uri), *secrets}, key=len, reverse=True)
        self.drain_timeout = DRAIN_TIMEOUT_S if drain_timeout is None else drain_timeout
        self._stopping = stopping or threading.Event()
        self.delivered = self.failures = self.rejected = self.undelivered = 0
        self.last_error: str | None = None
        self._dropped_before, self.bound_drops = spool.dropped, 0
        self._closed = self._failing = False
        self._settled_at = time.monotonic()
        self._refusals: set[str] = set()
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._send_loop, name=type(self).__name__)
        self._thread.daemon = True  # a hung network call must never keep the process alive
        self._thread.start()

    def send(self, records: list[dict]) -> int:
        """Sends the oldest records in order; returns how many (oldest first) are settled.

        Settled means delivered or refused for good. Subclasses may pipeline the batch.
        """
        settled = 0
        for record in records:
            try:
                if not self.deliver(record):
                    break
                self.delivered += 1
            except Refused as exc:
                self._refused(self.hide(exc))
            except Exception as exc:  # noqa: BLE001 - any other failure means "retry later"
                self.offline(str(exc) or type(exc).__name__)
                break
            settled += 1
        return settled

    def deliver(self, record: dict) -> bool:
        """Sends one record; True once confirmed, False (or an exception) to retry later."""
        raise NotImplementedError

    def write(self, result: dict) -> None:
        self.write_many([result])

    def write_many(self, results: list[dict]) -> None:
        self.spool.append_many(results)
        self._wake.set()

    @property
    def pending(self) -> int:
        """Results waiting in the spool (after close: those left for the next run)."""
        return self.undelivered if self._closed else len(self.spool)

    def close(self) -> None:
        """At the end of input, waits up to ``drain_timeout`` for the spool to empty while
        results get through; the rest stays for the next run.

        A far end that settles nothing for ``DRAIN_STALL_S`` (down, hung, refusing the login)
        is not waited for. After a stop request nothing is waited for, and an attempt under
        way is given up after ``STOP_GRACE_S`` (its result stays spooled): stopping takes well
        under a second whatever the network does.
        """
        started = time.monotonic()
        self._settled_at = max(self._settled_at, started)
        deadline = started + (0.0 if self._stopping.is_set() else self.drain_timeout)
        while len(self.spool) and time.monotonic() < deadline:
            if self.fatal or not self._thread.is_alive():
                break  # nothing will get through: no point waiting
            if time.monotonic() - self._settled_at > DRAIN_STALL_S:
                break
            self._wake.set()
            time.sleep(0.02)
        self._stop.set()
        self._wake.set()
        # The sender thread is a daemon: one stuck in a network call is left behind.
        self._thread.join(timeout=STOP_GRACE_S)
        self.undelivered, self._closed = len(self.spool), True
        self.bound_drops = self.spool.dropped - self._dropped_before
        try:
            self._disconnect()
        finally:
            self.spool.close()

    def notes(self) -> list[str]:
        """Lines for people about what was not delivered (none when everything was)."""
        lines = []
        if self.rejected:
            lines.append(f"sink {self.name}: {self.rejected} results refused and given up")
        if self.bound_drops:
            lines.append(
                f"sink {self.name}: the spool was full ({self.spool.max_records} results); "
                f"its {self.bound_drops} oldest were dropped"
            )
        if self.undelivered:
            why = f" ({self.last_error})" if self.last_error else ""
            lines.append(
                f"sink {self.name}: {self.undelivered} results not delivered{why}; they stay "
                f"in {self.spool.path.parent} and are sent first, in order, by the next run "
                "with this sink"
            )
        return lines

    def hide(self, message: object) -> str:
        """``message`` as text, with this sink's password and secret values as ``***``."""
        text = str(message)
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def offline(self, reason: str) -> None:
        """Records why delivery fails; logs it once, when delivery starts failing."""
        self.last_error = reason = self.hide(reason)
        if not self._failing and not self.fatal:  # a fatal error is said once, by the run
            self._failing = True
            where = self.spool.path.parent
            log.warning("sink %s: cannot deliver (%s); spooled in %s", self.name, reason, where)

    def _refused(self, reason: str) -> None:
        self.rejected += 1
        if reason not in self._refusals:  # each kind once; the notes give the total
            self._refusals.add(reason)
            log.warning("sink %s: %s; that result is given up (and counted)", self.name, reason)

    def _disconnect(self) -> None:
        """Releases the connection (subclasses)."""

    def _send_loop(self) -> None:
        backoff = BACKOFF_FIRST_S
        while not self._stop.is_set():
            try:
                progress = self._send_oldest()
            except sqlite3.Error as exc:  # a disk error; or close() won the race at exit
                if self._closed:
                    return
                self.offline(f"the spool failed: {exc}")
                progress = False
            if progress is None:  # nothing to send
                self._wake.wait(timeout=1.0)
                self._wake.clear()
            elif progress:
                backoff = BACKOFF_FIRST_S
            else:
                self.failures += 1
                self._stop.wait(backoff)  # woken early by close(), never by new results
                backoff = min(2 * backoff, BACKOFF_MAX_S)

    def _send_oldest(self) -> bool | None:
        """Sends one batch; None when there is nothing to send, else whether any was settled."""
        batch = [] if self.fatal else self.spool.peek_many(self.send_batch)
        if not batch:
            return None
        settled = self.send([record for _, record in batch])
        if settled:
            self._settled_at = time.monotonic()
            self.spool.remove_through(batch[settled - 1][0])
            if self._failing:
                self._failing = False
                log.warning("sink %s: delivering again", self.name)
        return settled > 0
