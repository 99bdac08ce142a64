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
from edgecnn.device.servicesecrets import env_text, without_secrets, write_private

if TYPE_CHECKING:
    from edgecnn.device.preflight import RunOptions

SYSTEM_UNIT_DIR = Path("/etc/systemd/system")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")


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
            write_private(env, env_text(secrets))
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
