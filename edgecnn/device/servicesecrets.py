"""The secrets of ``edgecnn service install``: out of the world-readable unit, into a 0600
environment file (sink passwords and secret-looking query values alike)."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from edgecnn.core import fileio
from edgecnn.core.errors import BadInputError
from edgecnn.device.io import mqttsink, netsinks
from edgecnn.device.io.base import is_secret_name
from edgecnn.device.io.sinkaddr import parse_address

# Where each kind of network sink reads its password when the URI has none.
PASSWORD_ENV = {
    "mqtt": mqttsink.PASSWORD_ENV,
    "http": netsinks.HTTP_PASSWORD_ENV,
    "https": netsinks.HTTP_PASSWORD_ENV,
}


def without_secrets(run_args: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """``run_args`` with each sink's secrets taken out, and the variables that give them back.

    A unit file is world-readable; the sinks read ``PASSWORD_ENV[scheme]`` instead, and each
    secret query value (the names ``run`` hides in its messages: token, api_key, sig, ...)
    becomes ``${EDGECNN_SINK_<NAME>}``, which the sink reads from the environment, both set
    by an environment file only its owner can read. A sink with a user name but no password
    takes the installer's own variable, if set (so the password need not be typed at all).

    Raises:
        BadInputError: two sinks of one kind with different passwords (one variable each).
    """
    args, secrets = [], {}
    words = iter(run_args)
    for word in words:
        if word == "--sink" and (uri := next(words, None)) is not None:
            args += [word, _take_secrets(uri, secrets)]
        elif word.startswith("--sink="):
            args.append("--sink=" + _take_secrets(word.removeprefix("--sink="), secrets))
        else:
            args.append(word)
    return args, secrets


def _take_secrets(uri: str, secrets: dict[str, str]) -> str:
    """``uri`` without its password and secret query values; they go into ``secrets``."""
    scheme, _, target = uri.partition(":")
    variable = PASSWORD_ENV.get(scheme)
    if variable is None or not target.startswith("//"):
        return uri
    address = parse_address(uri)  # the one parse `run` makes: same password, same rules
    password = address.password
    if password is None and address.user and os.environ.get(variable):
        password = os.environ[variable]
    if password is not None and secrets.setdefault(variable, password) != password:
        raise BadInputError(
            f"two {scheme} sinks have different passwords; a service takes one from "
            f"{variable}: use one account for them"
        )
    references = {}
    for key, value in address.query:
        if is_secret_name(key) and key not in ("password", *references):
            base = "EDGECNN_SINK_" + (re.sub(r"[^A-Z0-9]+", "_", key.upper()).strip("_") or "X")
            name, count = base, 1
            while secrets.get(name, value) != value:  # another sink's value of that name
                count += 1
                name = f"{base}_{count}"
            references[key], secrets[name] = name, value
    return address.public_uri(references)


def env_text(variables: dict[str, str]) -> str:
    """An ``EnvironmentFile``: ``NAME="value"`` lines, quoted as systemd reads them back."""
    lines = []
    for name, value in variables.items():
        if any(ord(ch) < 32 for ch in value):
            raise BadInputError(f"the {name} secret holds a control character")
        quoted = re.sub(r'(["\\`$])', r"\\\1", value)
        lines.append(f'{name}="{quoted}"\n')
    return "".join(lines)


def write_private(path: Path, text: str) -> None:
    """Writes ``text`` atomically into a file only its owner can read (mode 0600)."""

    def write(tmp: Path) -> None:
        tmp.chmod(0o600)  # before the secret goes in
        tmp.write_text(text, encoding="utf-8")

    fileio.write_with(path, write)
