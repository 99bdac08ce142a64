"""A network sink's address, parsed once: what it logs in as, where it sends, and its identity.

``mqtt://`` and ``http(s)://`` URIs are parsed here only; the sinks, the spool folder, the
messages and ``edgecnn service install`` all read the one :class:`SinkAddress`. The rules:

* the login (``user:password@``) is percent-decoded; a raw ``@`` in it is fine (the host
  follows the last ``@``), a raw ``/``, ``?`` or ``#`` must be percent-encoded;
* one password source: ``user:PW@`` or ``?password=PW`` (both, when they differ, is refused);
  only when neither is given is it read from the sink's environment variable;
* a query value written ``${EDGECNN_NAME}`` is read from that environment variable (how a
  service keeps a token out of its world-readable unit);
* the identity keying the spool covers the whole destination (scheme, host, port, topic or
  path, query, user) so results only ever go to the sink they were produced for; secret
  values enter it only through a hash, and the login password not at all (a new password
  for the same account is the same destination).

Device side: stdlib only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlencode

from edgecnn.core.errors import BadInputError
from edgecnn.device.io.base import is_secret_name, redact_uri

OWN_OPTIONS = ("spool", "max_records")  # edgecnn's own, never sent and not the destination
# Neither sent in a URL nor part of the destination: edgecnn's options and the login.
NOT_IN_URL = (*OWN_OPTIONS, "username", "password")
# How an MQTT sink connects, not where its results go: changing one keeps the spool.
MQTT_CONNECTION_OPTIONS = ("tls", "cafile", "client_id")
DEFAULT_PORTS = {"http": 80, "https": 443, "mqtt": 1883}
_ENV_REF = re.compile(r"\$\{(EDGECNN_[A-Z0-9_]+)\}")


@dataclass(frozen=True)
class SinkAddress:
    """One ``mqtt://`` or ``http(s)://`` sink URI, parsed; see the module doc for the rules."""

    uri: str
    scheme: str
    host: str  # without the brackets of an IPv6 address
    port: int | None
    path: str  # HTTP: as written; MQTT: the topic, percent-decoded
    query: tuple[tuple[str, str], ...]  # every pair, ``${EDGECNN_...}`` resolved
    user: str | None
    password: str | None  # from the URI only (``login_password`` adds the environment)

    @property
    def options(self) -> dict[str, str]:
        return dict(self.query)

    @property
    def shown(self) -> str:
        """The URI for people: the password and secret query values as ``***``."""
        return redact_uri(self.uri)

    @property
    def netloc(self) -> str:
        """``host[:port]`` as written in a URL (IPv6 in brackets), without the login."""
        return self.endpoint(self.port) if self.port is not None else self._host()

    def endpoint(self, port: int) -> str:
        """``host:port`` (IPv6 in brackets), e.g. for messages."""
        return f"{self._host()}:{port}"

    def _host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    @property
    def secrets(self) -> list[str]:
        """Every secret in the address, raw and decoded, to hide them in any message."""
        values = [self.password or ""]
        values += [v for k, v in self.query if is_secret_name(k)]
        return [s for s in {*values, *(quote(v, safe="") for v in values)} if s]

    def login_password(self, variable: str) -> str | None:
        """The password: from the URI, else from the environment ``variable``."""
        return self.password if self.password is not None else os.environ.get(variable)

    def request_url(self) -> str:
        """The URL an HTTP sink posts to: no login, no edgecnn options."""
        kept = [(k, v) for k, v in self.query if k not in NOT_IN_URL]
        query = f"?{urlencode(kept)}" if kept else ""
        return f"{self.scheme}://{self.netloc}{self.path or '/'}{query}"

    def public_uri(self, references: dict[str, str]) -> str:
        """The URI as written but without the login's password or ``?password=``, and with
        the value of each query option in ``references`` replaced by ``${VARIABLE}``."""
        hier, query, _ = _split_rest(self.uri.partition("://")[2])
        authority, slash, path = hier.partition("/")
        login, at, hostport = authority.rpartition("@")
        user = login.partition(":")[0] + "@" if at and login.partition(":")[0] else ""
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k == "password" or k in references for k, _ in pairs):
            kept = [(k, f"${{{references[k]}}}" if k in references else v)
                    for k, v in pairs if k != "password"]  # fmt: skip
            query = urlencode(kept, safe="/:${}")
        return f"{self.scheme}://{user}{hostport}{slash}{path}" + (f"?{query}" if query else "")

    def identity(self) -> str:
        """The spool folder name: readable ``scheme_host_port`` and a hash of the whole
        destination, so two sinks share a folder only when they are the same sink."""
        tls = self.options.get("tls", "0") not in ("0", "", "false")
        port = self.port or (8883 if tls else DEFAULT_PORTS[self.scheme])
        left_out = NOT_IN_URL
        if self.scheme == "mqtt":
            left_out += MQTT_CONNECTION_OPTIONS
        query = sorted(
            (k, _digest(v) if is_secret_name(k) else v)
            for k, v in self.query
            if k not in left_out
        )
        whole = [self.scheme, self.host.lower(), port, self.path, query, self.user]
        readable = re.sub(r"[^A-Za-z0-9.-]+", "_", f"{self.scheme}_{self.host}_{port}")
        return f"{readable}-{_digest(json.dumps(whole))[:16]}"


def parse_address(uri: str) -> SinkAddress:
    """Parses an ``mqtt://`` or ``http(s)://`` sink URI.

    Raises:
        BadInputError: one line naming what is wrong (never the password).
    """
    scheme, _, rest = uri.partition("://")
    hier, query, fragment = _split_rest(rest)
    authority_end = next((i for i, ch in enumerate(rest) if ch in "/?#"), len(rest))
    if rest[authority_end : authority_end + 1] in ("?", "#") and "@" in rest[authority_end:]:
        # a '?' or '#' before the '@' cut the login short: any part of the URI echoed back
        # could be the password, so the line names only the scheme
        raise BadInputError(
            f"sink {scheme}://...: a '?' or '#' stands before the '@' of the login; "
            "percent-encode '/', '?', '#' and '@' in a password (%2F %3F %23 %40)"
        )
    authority, slash, path = hier.partition("/")
    path = slash + path
    if "@" in path:
        raise BadInputError(
            f"sink {redact_uri(uri)!r}: an '@' after the host is ambiguous; percent-encode "
            "'/', '?', '#' and '@' in a password (%2F %3F %23 %40) and '@' in a path (%40)"
        )
    login, at, hostport = authority.rpartition("@")
    user, colon, password = login.partition(":")
    host, port = _host_port(hostport, redact_uri(uri))
    pairs = tuple((k, _resolve(k, v, uri)) for k, v in parse_qsl(query, keep_blank_values=True))
    address = SinkAddress(
        uri, scheme, host, port, path, pairs,
        _one_of(unquote(user) if at else None, dict(pairs).get("username"), "user name", uri),
        _one_of(unquote(password) if colon else None, dict(pairs).get("password"), "password", uri),
    )  # fmt: skip
    if scheme == "mqtt":
        return _mqtt(address, fragment)
    return address


def _split_rest(rest: str) -> tuple[str, str, str | None]:
    """``host/path``, the query and the fragment (None when there is no ``#``)."""
    before, hash_mark, fragment = rest.partition("#")
    hier, _, query = before.partition("?")
    return hier, query, fragment if hash_mark else None


def _host_port(hostport: str, shown: str) -> tuple[str, int | None]:
    if hostport.startswith("["):  # an IPv6 address: [::1] or [::1]:1883
        host, bracket, port = hostport[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            raise BadInputError(f"sink {shown!r}: an IPv6 host is written [ADDRESS]:PORT")
        port = port[1:]
    else:
        host, _, port = hostport.partition(":")
    if not host:
        raise BadInputError(f"sink {shown!r} needs a host: mqtt://HOST[:PORT]/TOPIC or "
                            "http://HOST/PATH")  # fmt: skip
    if port and not (port.isascii() and port.isdigit() and int(port) <= 65535):
        raise BadInputError(f"sink {shown!r}: the port is not a number from 0 to 65535")
    return host, int(port) if port else None


def _resolve(key: str, value: str, uri: str) -> str:
    """A query value; ``${EDGECNN_NAME}`` is read from that environment variable."""
    match = _ENV_REF.fullmatch(value)
    if match is None:
        return value
    if match[1] not in os.environ:
        raise BadInputError(
            f"sink {redact_uri(uri)!r}: {key}={value} names the environment variable "
            f"{match[1]}, which is not set"
        )
    return os.environ[match[1]]


def _one_of(in_login: str | None, in_query: str | None, what: str, uri: str) -> str | None:
    """The one value given for the login's ``what``; two different ones are refused."""
    if in_login is not None and in_query is not None and in_login != in_query:
        raise BadInputError(
            f"sink {redact_uri(uri)!r} gives two different {what}s (before the '@' and in "
            f"?{'username' if what == 'user name' else 'password'}=); give it once"
        )
    return in_login if in_login is not None else in_query


def _mqtt(address: SinkAddress, fragment: str | None) -> SinkAddress:
    topic = unquote(address.path.lstrip("/"))
    if fragment is not None or "+" in topic or "#" in topic:
        raise BadInputError(
            f"sink {address.shown!r}: a topic to publish to cannot hold the wildcards '+' or "
            "'#' (a '#' in a password is written %23)"
        )
    if not topic or "\x00" in topic:
        raise BadInputError(f"sink {address.shown!r} needs a topic: mqtt://HOST[:PORT]/TOPIC")
    return SinkAddress(**{**address.__dict__, "path": topic})


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
