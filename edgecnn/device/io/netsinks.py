"""Network sinks: HTTP POST here, MQTT (QoS 1) in ``mqttsink``; :func:`open_network_sink`.

Both deliver through a durable spool (:class:`~edgecnn.device.io.spoolsink.SpoolSink`,
which says how); this module opens the right one for a URI, with its spool.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from edgecnn.core.errors import BadInputError
from edgecnn.device.io.mqttsink import MqttSink
from edgecnn.device.io.sinkaddr import SinkAddress
from edgecnn.device.io.sinkuri import check_network_uri
from edgecnn.device.io.spool import DEFAULT_MAX_RECORDS, Spool
from edgecnn.device.io.spoolsink import SEND_TIMEOUT_S, Refused, SpoolSink

HTTP_PASSWORD_ENV = "EDGECNN_HTTP_PASSWORD"
RETRYABLE_4XX = (408, 425, 429)  # timeout, too early, too many requests: worth another try

log = logging.getLogger(__name__)


class HttpSink(SpoolSink):
    """POSTs each result as a JSON body; 2xx is delivered, 4xx given up, the rest retried.

    Each result leaves the spool as soon as its 2xx came (``send_batch`` 1), so a slow server
    still makes progress across runs. A redirect is followed only to the same origin with a
    307/308 (method, body and login kept); any other stays spooled, with a line naming it.
    """

    send_batch = 1  # a POST costs far more than the spool commit after it

    def __init__(self, address: SinkAddress, spool: Spool, **kwargs) -> None:
        """Starts sending to ``address`` (a login goes in a header, edgecnn's options nowhere)."""
        self.url = address.request_url()
        self.headers = {"Content-Type": "application/json"}
        if address.user is not None:  # basic auth; the password may come from HTTP_PASSWORD_ENV
            login = f"{address.user}:{address.login_password(HTTP_PASSWORD_ENV) or ''}"
            self.headers["Authorization"] = "Basic " + base64.b64encode(login.encode()).decode()
        self._opener = urllib.request.build_opener(_SameOriginRedirects())
        super().__init__(address.uri, spool, secrets=address.secrets, **kwargs)

    def deliver(self, record: dict) -> bool:
        request = urllib.request.Request(
            self.url,
            data=json.dumps(record).encode(),
            headers=self.headers,
            method="POST",
        )
        try:
            with self._opener.open(request, timeout=SEND_TIMEOUT_S) as response:
                return 200 <= response.status < 300
        except _SeeOther:  # the server took the POST and names where to read about it
            return True
        except urllib.error.HTTPError as exc:
            exc.close()
            # A 4xx is about this request (bad body, wrong path, no permission): sending it
            # again gets the same answer, and retrying it forever would block every later one.
            if 400 <= exc.code < 500 and exc.code not in RETRYABLE_4XX:
                raise Refused(f"the server answered HTTP {exc.code} {exc.reason}") from None
            raise OSError(f"the server answered HTTP {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:  # no answer at all: unreachable, refused, TLS
            raise OSError(f"cannot reach the server: {exc.reason}") from None


class _SeeOther(Exception):
    """HTTP 303: the POST was processed; the Location is a page about it, not a retry."""


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a 307/308 to the same origin as a POST with its body; refuses every other.

    urllib's own handler turns a 301/302 POST into a body-less GET (the result is lost, yet
    the answer is a 2xx) and sends the login along to whatever host the server names. A 303
    answers a POST that was processed: the result counts as delivered and is not followed
    (resending it would duplicate it on every run).
    """

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if code == 303:
            fp.close()
            raise _SeeOther
        if code in (307, 308) and _origin(newurl) == _origin(req.full_url):
            return urllib.request.Request(
                newurl, data=req.data, headers=dict(req.header_items()), method=req.get_method()
            )
        fp.close()
        raise OSError(f"the server redirects (HTTP {code}) to {newurl}; not followed with the "
                      "results and login: give the sink that URL if it is right")  # fmt: skip


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme, parts.hostname, parts.port or {"http": 80, "https": 443}.get(parts.scheme)


def open_network_sink(uri: str, **kwargs) -> SpoolSink:
    """Opens an ``mqtt://``, ``http://`` or ``https://`` sink with its spool.

    Args:
        uri: the sink URI; ``?spool=DIR`` and ``?max_records=N`` choose the spool.
        **kwargs: passed to :class:`SpoolSink` (e.g. ``drain_timeout``).
    """
    address = check_network_uri(uri)
    options = address.options
    try:
        max_records = int(options.get("max_records", DEFAULT_MAX_RECORDS))
        spool = Spool(
            options.get("spool") or default_spool_dir(address),
            max_records=max_records,
            destination=address.identity(),
        )
    except (ValueError, OSError) as exc:
        raise BadInputError(f"sink {address.shown!r}: the spool cannot be opened: {exc}") from None
    try:
        if address.scheme == "mqtt":
            return MqttSink(address, spool, **kwargs)
        return HttpSink(address, spool, **kwargs)
    except BaseException:
        spool.close()
        raise


def default_spool_dir(address: SinkAddress) -> Path:
    """``$XDG_CACHE_HOME/edgecnn/spool/<identity>``: one folder per whole destination.

    A folder of the old naming (which left out the query and merged punctuation, so it may
    hold results of another sink) is never read: it is left alone, with one line saying so.
    """
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "edgecnn" / "spool"
    old = cache / _old_folder_name(address)
    if (old / "spool.sqlite3").is_file():
        log.warning(
            "sink %s: the spool folder %s is of the old naming (it may hold results of "
            "another sink of that host) and is left alone; nothing in it is sent",
            address.shown, old,
        )  # fmt: skip
    return cache / address.identity()


def _old_folder_name(address: SinkAddress) -> str:
    """The folder's old name: scheme, host, port and path, punctuation merged."""
    path = "/" + address.path if address.scheme == "mqtt" else address.path
    where = f"{address.scheme}_{address.host.lower()}_{address.port or ''}_{path}"
    return re.sub(r"[^A-Za-z0-9.-]+", "_", where).strip("_")
