"""Sink URIs checked without opening anything: what ``run`` and ``service install`` accept.

Device side: stdlib only.
"""

from __future__ import annotations

import re

from edgecnn.core.errors import BadInputError
from edgecnn.device.io.base import redact_uri
from edgecnn.device.io.sinkaddr import SinkAddress, parse_address

SCHEMES = (
    "stdout, text, jsonl:FILE, csv:FILE, mqtt://HOST[:PORT]/TOPIC, http(s)://URL, gpio:PIN=LABEL"
)


def check_sink(uri: str) -> None:
    """Refuses a sink URI ``open_sink`` could not use, without opening anything.

    ``edgecnn service install`` calls it so a unit is never written for a sink that ``run``
    would refuse; ``open_sink`` calls it first so both say the same.

    Raises:
        BadInputError: an unknown scheme, or a network URI that :func:`parse_address`
            refuses, or a ``max_records`` that is not a whole number.
    """
    scheme, _, target = uri.partition(":")
    shown = redact_uri(uri)
    if uri in ("stdout", "text") or (scheme in ("jsonl", "csv") and target):
        return
    if scheme == "gpio" and re.fullmatch(r"(\d+)=(.+)", target):
        return
    if scheme not in ("mqtt", "http", "https") or not target.startswith("//"):
        raise BadInputError(f"sink {shown!r} is not understood; use one of: {SCHEMES}")
    check_network_uri(uri)


def check_network_uri(uri: str) -> SinkAddress:
    """Parses an ``mqtt://``/``http(s)://`` sink and checks edgecnn's own options."""
    address = parse_address(uri)
    records = address.options.get("max_records", "1")
    if not (records.isascii() and records.isdigit()) or int(records) < 1:
        raise BadInputError(
            f"sink {address.shown!r}: max_records={records!r} must be a whole number of 1 or more"
        )
    return address
