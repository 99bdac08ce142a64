"""Sink URIs checked without opening anything: what ``run`` and ``service install`` accept.

Device side: stdlib only.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlparse

from edgecnn.core.errors import BadInputError
from edgecnn.device.io.base import redact_uri

SCHEMES = (
    "stdout, text, jsonl:FILE, csv:FILE, mqtt://HOST[:PORT]/TOPIC, http(s)://URL, gpio:PIN=LABEL"
)


def check_sink(uri: str) -> None:
    """Refuses a sink URI ``open_sink`` could not use, without opening anything.

    ``edgecnn service install`` calls it so a unit is never written for a sink that ``run``
    would refuse; ``open_sink`` calls it first so both say the same.

    Raises:
        BadInputError: an unknown scheme, or a network URI without a host, with a port
            that is not a number, or a ``max_records`` that is not a whole number.
    """
    scheme, _, target = uri.partition(":")
    shown = redact_uri(uri)
    if uri in ("stdout", "text") or (scheme in ("jsonl", "csv") and target):
        return
    if scheme == "gpio" and re.fullmatch(r"(\d+)=(.+)", target):
        return
    if scheme not in ("mqtt", "http", "https") or not target.startswith("//"):
        raise BadInputError(f"sink {shown!r} is not understood; use one of: {SCHEMES}")
    _check_network_uri(uri, shown)


def _check_network_uri(uri: str, shown: str) -> None:
    parsed = urlparse(uri)
    try:
        parsed.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        raise BadInputError(f"sink {shown!r}: the port is not a number from 0 to 65535") from None
    if not parsed.hostname:
        example = "mqtt://HOST[:PORT]/TOPIC" if parsed.scheme == "mqtt" else "http://HOST/PATH"
        raise BadInputError(f"sink {shown!r} needs a host: {example}")
    records = dict(parse_qsl(parsed.query)).get("max_records", "1")
    if not records.isdigit() or int(records) < 1:
        raise BadInputError(
            f"sink {shown!r}: max_records={records!r} must be a whole number of 1 or more"
        )
