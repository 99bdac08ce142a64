"""Network sinks: MQTT (QoS 1) and HTTP POST, each delivering through a durable :class:`Spool`.

``write`` only appends to the spool; a sender thread delivers the oldest record, deletes it
once the far end confirmed it (PUBACK, HTTP 2xx), and on failure retries the same record with
a bounded exponential backoff. Order is kept and nothing is lost short of the spool bound;
delivery is at-least-once (a confirmation lost in transit means the record is sent again).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

from edgecnn.core.errors import BadInputError
from edgecnn.core.optional import require
from edgecnn.device.io.base import Sink
from edgecnn.device.io.spool import DEFAULT_MAX_RECORDS, Spool

BACKOFF_FIRST_S = 0.2
BACKOFF_MAX_S = 5.0
DRAIN_TIMEOUT_S = 5.0
SEND_TIMEOUT_S = 5.0
PASSWORD_ENV = "EDGECNN_MQTT_PASSWORD"


class SpoolSink(Sink):
    """Base class: spools each result; a thread hands them in order to :meth:`deliver`."""

    def __init__(self, spool: Spool, *, drain_timeout: float = DRAIN_TIMEOUT_S) -> None:
        self.spool = spool
        self.drain_timeout = drain_timeout
        self.delivered = self.failures = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._send_loop, name=type(self).__name__)
        self._thread.daemon = True  # a hung network call must never keep the process alive
        self._thread.start()

    def deliver(self, record: dict) -> bool:
        """Sends one record; True only when the far end confirmed it."""
        raise NotImplementedError

    def write(self, result: dict) -> None:
        self.spool.append(result)
        self._wake.set()

    def close(self) -> None:
        """Waits up to ``drain_timeout`` for the spool to empty; the rest stays for next run."""
        deadline = time.monotonic() + self.drain_timeout
        while len(self.spool) and time.monotonic() < deadline and self._thread.is_alive():
            self._wake.set()
            time.sleep(0.02)
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=SEND_TIMEOUT_S + 1)
        self._disconnect()
        self.spool.close()

    def _disconnect(self) -> None:
        """Releases the connection (subclasses)."""

    def _send_loop(self) -> None:
        backoff = BACKOFF_FIRST_S
        while not self._stop.is_set():
            head = self.spool.peek()
            if head is None:
                self._wake.wait(timeout=1.0)
                self._wake.clear()
                continue
            record_id, record = head
            if self._try(record):
                self.spool.remove(record_id)
                self.delivered += 1
                backoff = BACKOFF_FIRST_S
            else:
                self.failures += 1
                self._stop.wait(backoff)  # woken early by close(), never by new results
                backoff = min(2 * backoff, BACKOFF_MAX_S)

    def _try(self, record: dict) -> bool:
        try:
            return self.deliver(record)
        except Exception:  # noqa: BLE001 - any failure means "retry later", never a dead thread
            return False


class MqttSink(SpoolSink):
    """Publishes each result as JSON to one topic with QoS 1 (paho-mqtt 2.x)."""

    def __init__(self, uri: str, spool: Spool, **kwargs) -> None:
        """Connects in the background (paho reconnects by itself) and starts sending.

        Args:
            uri: ``mqtt://[user[:pass]@]host[:port]/topic?username=&password=&tls=1&cafile=&
                client_id=``; the password may also come from ``EDGECNN_MQTT_PASSWORD``.
            spool: where results wait for their PUBACK.
            **kwargs: passed to :class:`SpoolSink`.
        """
        mqtt = require("paho.mqtt.client", extra="mqtt", package="paho-mqtt")
        parsed, options = urlparse(uri), _query(uri)
        self.topic = parsed.path.lstrip("/")
        if not parsed.hostname or not self.topic:
            raise BadInputError(f"sink {uri!r} needs a host and a topic: mqtt://HOST[:PORT]/TOPIC")
        tls = options.get("tls", "0") not in ("0", "", "false")
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=options.get("client_id", "")
        )
        user = options.get("username") or parsed.username
        if user:
            password = options.get("password") or parsed.password or os.environ.get(PASSWORD_ENV)
            self.client.username_pw_set(user, password)
        if tls:
            self.client.tls_set(ca_certs=options.get("cafile") or None)
        self.client.reconnect_delay_set(min_delay=BACKOFF_FIRST_S, max_delay=BACKOFF_MAX_S)
        self.client.connect_async(parsed.hostname, parsed.port or (8883 if tls else 1883))
        self.client.loop_start()
        super().__init__(spool, **kwargs)

    def deliver(self, record: dict) -> bool:
        # Publishing while offline would park the message in paho's own memory queue, which is
        # neither bounded by us nor durable: wait for the connection and let the spool hold it.
        if not self.client.is_connected():
            return False
        info = self.client.publish(self.topic, json.dumps(record), qos=1)
        info.wait_for_publish(timeout=SEND_TIMEOUT_S)
        return info.is_published()

    def _disconnect(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class HttpSink(SpoolSink):
    """POSTs each result as a JSON body; any 2xx answer counts as delivered."""

    def __init__(self, uri: str, spool: Spool, **kwargs) -> None:
        """Starts sending to ``uri`` (edgecnn's own ``spool``/``max_records`` options removed)."""
        parsed = urlparse(uri)
        kept = [(k, v) for k, v in parse_qsl(parsed.query) if k not in _OWN_OPTIONS]
        self.url = urlunparse(parsed._replace(query=urlencode(kept)))
        super().__init__(spool, **kwargs)

    def deliver(self, record: dict) -> bool:
        request = urllib.request.Request(
            self.url,
            data=json.dumps(record).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=SEND_TIMEOUT_S) as response:
                return 200 <= response.status < 300
        except (urllib.error.URLError, OSError):  # HTTPError (non-2xx) is a URLError
            return False


_OWN_OPTIONS = ("spool", "max_records")


def open_network_sink(uri: str, **kwargs) -> SpoolSink:
    """Opens an ``mqtt://``, ``http://`` or ``https://`` sink with its spool.

    Args:
        uri: the sink URI; ``?spool=DIR`` and ``?max_records=N`` choose the spool.
        **kwargs: passed to :class:`SpoolSink` (e.g. ``drain_timeout``).
    """
    options = _query(uri)
    try:
        max_records = int(options.get("max_records", DEFAULT_MAX_RECORDS))
        spool = Spool(options.get("spool") or default_spool_dir(uri), max_records=max_records)
    except (ValueError, OSError) as exc:
        raise BadInputError(f"sink {uri!r}: the spool cannot be opened: {exc}") from None
    try:
        if uri.startswith("mqtt://"):
            return MqttSink(uri, spool, **kwargs)
        return HttpSink(uri, spool, **kwargs)
    except BaseException:
        spool.close()
        raise


def default_spool_dir(uri: str) -> Path:
    """``$XDG_CACHE_HOME/edgecnn/spool/<uri without credentials or query>``."""
    parsed = urlparse(uri)
    where = f"{parsed.scheme}_{parsed.hostname}_{parsed.port or ''}_{parsed.path}"
    name = re.sub(r"[^A-Za-z0-9.-]+", "_", where).strip("_")
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "edgecnn" / "spool" / name


def _query(uri: str) -> dict[str, str]:
    return dict(parse_qsl(urlparse(uri).query))
