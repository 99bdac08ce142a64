"""Network sinks: HTTP POST here, MQTT (QoS 1) in ``mqttsink``; :func:`open_network_sink`.

Both deliver through a durable spool (:class:`~edgecnn.device.io.spoolsink.SpoolSink`,
which says how); this module opens the right one for a URI, with its spool.
"""

from __future__ import annotations

import base64
import json
import os
import re
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

from edgecnn.core.errors import BadInputError
from edgecnn.device.io.base import redact_uri
from edgecnn.device.io.mqttsink import MqttSink
from edgecnn.device.io.spool import DEFAULT_MAX_RECORDS, Spool
from edgecnn.device.io.spoolsink import SEND_TIMEOUT_S, Refused, SpoolSink

HTTP_PASSWORD_ENV = "EDGECNN_HTTP_PASSWORD"
RETRYABLE_4XX = (408, 425, 429)  # timeout, too early, too many requests: worth another try


class HttpSink(SpoolSink):
    """POSTs each result as a JSON body; 2xx is delivered, 4xx given up, the rest retried."""

    def __init__(self, uri: str, spool: Spool, **kwargs) -> None:
        """Starts sending to ``uri`` (edgecnn's own ``spool``/``max_records`` options removed)."""
        parsed = urlparse(uri)
        kept = [(k, v) for k, v in parse_qsl(parsed.query) if k not in _OWN_OPTIONS]
        host = parsed.netloc.rpartition("@")[2]  # a login goes in a header, not the URL
        self.url = urlunparse(parsed._replace(netloc=host, query=urlencode(kept)))
        self.headers = {"Content-Type": "application/json"}
        if parsed.username:  # basic auth; the password may come from HTTP_PASSWORD_ENV
            login = f"{parsed.username}:{parsed.password or os.environ.get(HTTP_PASSWORD_ENV, '')}"
            self.headers["Authorization"] = "Basic " + base64.b64encode(login.encode()).decode()
        super().__init__(uri, spool, **kwargs)

    def deliver(self, record: dict) -> bool:
        request = urllib.request.Request(
            self.url,
            data=json.dumps(record).encode(),
            headers=self.headers,
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=SEND_TIMEOUT_S) as response:
                return 200 <= response.status < 300
        except urllib.error.HTTPError as exc:
            exc.close()
            # A 4xx is about this request (bad body, wrong path, no permission): sending it
            # again gets the same answer, and retrying it forever would block every later one.
            if 400 <= exc.code < 500 and exc.code not in RETRYABLE_4XX:
                raise Refused(f"the server answered HTTP {exc.code} {exc.reason}") from None
            raise OSError(f"the server answered HTTP {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:  # no answer at all: unreachable, refused, TLS
            raise OSError(f"cannot reach the server: {exc.reason}") from None


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
        shown = redact_uri(uri)
        raise BadInputError(f"sink {shown!r}: the spool cannot be opened: {exc}") from None
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
