"""``edgecnn service install``: a systemd unit that keeps ``edgecnn run`` going on a Pi.

Generating the unit never needs root: with ``out`` it is written wherever asked, and the
next steps (copy, daemon-reload, enable) are returned for the CLI to print.
"""

from __future__ import annotations

import getpass
import os
import re
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from edgecnn.core import fileio
from edgecnn.core.errors import BadInputError
from edgecnn.core.manifest import manifest_path
from edgecnn.device.io import mqttsink, netsinks
from edgecnn.device.io.base import is_secret_name
from edgecnn.device.io.sinkaddr import parse_address

if TYPE_CHECKING:
    from edgecnn.device.preflight import RunOptions

SYSTEM_UNIT_DIR = Path("/etc/systemd/system")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")
# Where each kind of network sink reads its password when the URI has none.
PASSWORD_ENV = {
    "mqtt": mqttsink.PASSWORD_ENV,
    "http": netsinks.HTTP_PASSWORD_ENV,
    "https": netsinks.HTTP_PASSWORD_ENV,
}


@dataclass(frozen=True)
class UnitResult:
    """What ``write_unit`` wrote and what the user runs next."""

    path: Path
    name: str
    user: bool
    text: str
    next_steps: tuple[str, ...]


def write_unit(
    model: str | os.PathLike,
    run_args: Sequence[str],
    *,
    user: bool,
    name: str | None = None,
    out: str | os.PathLike | None = None,
) -> UnitResult:
    """Writes a systemd unit that runs ``edgecnn run MODEL *run_args`` and restarts it.

    Args:
        model: the .tflite model; its manifest must sit beside it.
        run_args: the ``edgecnn run`` options after the model, e.g. ``["--source", "stdin"]``.
        user: a user unit (``~/.config/systemd/user``) rather than a system one.
        name: the unit name without ``.service`` [``edgecnn-<model stem>``].
        out: write here instead (a ``.service`` file, or a folder to put it in).

    Returns:
        The written path, the unit text and the commands that install and start it.

    Raises:
        BadInputError: a missing model or manifest, a bad name or argument, or a unit
            folder this user cannot write (use ``out``).
    """
    model_path = Path(model).expanduser().absolute()
    _check_model(model_path)
    name = name or _default_name(model_path)
    if not NAME_PATTERN.match(name) or name.endswith(".service"):
        raise BadInputError(f"unit name {name!r} must be letters, digits, '-', '_', '.' or '@'")
    args, secrets = without_secrets(run_args)
    target = _target(name, user=user, out=out)
    env = target.with_suffix(".env") if secrets else None
    # Where the unit will read it: beside the unit, once installed where the steps say.
    env_final = (_unit_dir(user) if out is not None else target.parent) / env.name if env else None
    text = unit_text(model_path, args, user=user, env_file=env_final)
    try:
        if env is not None:
            _write_private(env, env_text(secrets))
        fileio.write_text(target, text)
    except PermissionError:
        raise BadInputError(
            f"cannot write {target}; use --out FILE (then copy it with sudo) or run with sudo"
        ) from None
    steps = _next_steps(name, target, user=user, out=out, env=env if out is not None else None)
    return UnitResult(target, name, user, text, steps)


def install_unit(
    model: str | os.PathLike, run_args: Sequence[str], *, source: str, options: RunOptions,
    sinks: Sequence[str] = (), user: bool, name: str | None = None,
    out: str | os.PathLike | None = None,
) -> UnitResult:
    """Checks the run as ``edgecnn run`` would, then :func:`write_unit` (a typo or a value
    run would refuse fails now, not every few seconds after boot)."""
    from edgecnn.device.preflight import check_run

    check_run(model, source=source, options=options, sinks=sinks)
    return write_unit(model, run_args, user=user, name=name, out=out)


def unit_text(
    model: Path, run_args: Sequence[str], *, user: bool, env_file: Path | None = None
) -> str:
    """The unit file text (see :func:`write_unit`); ``env_file`` holds the sinks' passwords."""
    command = [*_edgecnn_command(), "run", str(model), *run_args]
    service = [
        "[Service]",
        "Type=simple",
        *([f"EnvironmentFile={_escape(str(env_file))}"] if env_file else []),
        f"ExecStart={exec_line(command)}",
        f"WorkingDirectory={_escape(str(Path.cwd()))}",
        # Results go to the journal as they happen, not when a buffer fills.
        "Environment=PYTHONUNBUFFERED=1",
        "Restart=on-failure",
        "RestartSec=5",
    ]
    if not user:
        # A system unit would otherwise run as root; run as whoever set it up.
        service.insert(2, f"User={_invoking_user()}")
    lines = [
        "[Unit]",
        f"Description=edgecnn run {model.name}",
        "",
        *service,
        "",
        "[Install]",
        f"WantedBy={'default.target' if user else 'multi-user.target'}",
        "",
    ]
    return "\n".join(lines)


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


def _write_private(path: Path, text: str) -> None:
    """Writes ``text`` atomically into a file only its owner can read (mode 0600)."""

    def write(tmp: Path) -> None:
        tmp.chmod(0o600)  # before the secret goes in
        tmp.write_text(text, encoding="utf-8")

    fileio.write_with(path, write)


def exec_line(argv: Sequence[str]) -> str:
    """A command line systemd splits back into ``argv``.

    Each word is shell-quoted (systemd honours the same single quotes), then ``%`` and ``$``
    are doubled, because systemd expands specifiers and variables even inside quotes.

    Raises:
        BadInputError: a word holds a backslash or control character, which systemd would
            unescape differently from a shell.
    """
    for word in argv:
        if "\\" in word or any(ord(ch) < 32 for ch in word):
            raise BadInputError(f"argument {word!r} has a backslash or control character")
    return " ".join(_escape(shlex.quote(word)) for word in argv)


def _escape(text: str) -> str:
    return text.replace("%", "%%").replace("$", "$$")


def _check_model(model: Path) -> None:
    if not model.is_file():
        raise BadInputError(f"model {model} does not exist")
    manifest = manifest_path(model)
    if not manifest.is_file():
        raise BadInputError(
            f"model {model} has no manifest {manifest.name} beside it; `edgecnn run` needs it"
        )


def _default_name(model: Path) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", model.stem).strip("-.") or "model"
    return f"edgecnn-{stem}"


def _edgecnn_command() -> list[str]:
    """The edgecnn of this environment, by absolute path (systemd has no venv on PATH)."""
    # Not resolved: a venv's python is a symlink, and the script sits beside the link.
    script = Path(sys.executable).absolute().with_name("edgecnn")
    if script.is_file():
        return [str(script)]
    return [str(Path(sys.executable).absolute()), "-m", "edgecnn"]


def _invoking_user() -> str:
    """The user who ran the command, even under sudo."""
    return os.environ.get("SUDO_USER") or getpass.getuser()


def _target(name: str, *, user: bool, out: str | os.PathLike | None) -> Path:
    filename = f"{name}.service"
    if out is None:
        return _unit_dir(user) / filename
    out_path = Path(out).expanduser()
    # An existing folder is a folder whatever its name; otherwise ".service" names the file.
    named = out_path.suffix == ".service" and not out_path.is_dir()
    target = out_path if named else out_path / filename
    fileio.writable_folder(target.parent, f"--out {out}")
    return target


def _unit_dir(user: bool) -> Path:
    if not user:
        return SYSTEM_UNIT_DIR
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "systemd" / "user"


def _next_steps(
    name: str, target: Path, *, user: bool, out, env: Path | None = None
) -> tuple[str, ...]:
    systemctl = "systemctl --user" if user else "sudo systemctl"
    steps = []
    if out is not None:
        install_dir = _unit_dir(user)
        copy = "cp" if user else "sudo cp"
        steps.append(f"mkdir -p {shlex.quote(str(install_dir))}" if user else "")
        steps.append(f"{copy} {shlex.quote(str(target))} {shlex.quote(str(install_dir))}/")
        if env is not None:  # install, not cp: the copy must be private from the start
            sudo = "" if user else "sudo "
            steps.append(
                f"{sudo}install -m 600 {shlex.quote(str(env))} {shlex.quote(str(install_dir))}/"
            )
    steps.append(f"{systemctl} daemon-reload && {systemctl} enable --now {name}")
    if user:
        # Without lingering, a user unit stops at logout and does not start at boot.
        steps.append(f"sudo loginctl enable-linger {shlex.quote(getpass.getuser())}")
    steps.append(f"journalctl {'--user ' if user else ''}-u {name} -f")
    return tuple(step for step in steps if step)
