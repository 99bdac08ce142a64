"""Benchmark on another machine (a Raspberry Pi) over ssh, with results shaped as if local.

One ``ssh`` session does everything: the models and their manifests travel as a tar stream on
its stdin into a fresh ``mktemp -d`` folder, ``edgecnn benchmark --json`` runs there, and a
shell ``trap`` removes the folder however the run ends. One session rather than
``scp`` + several ``ssh`` calls because each handshake costs about a second on a Pi Zero, scp
spells the port option differently (``-P``) and needs an sftp server on the Pi, and a cleanup
that depends on a second connection is lost exactly when the network is the problem.

Uses the system ``ssh`` client, so ``~/.ssh/config`` host aliases, keys and agents apply.
Stdlib only (no paramiko); the Pi needs ``sh``, ``mktemp``, ``tar`` and
``pip install "edgecnn[device]"``.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import shutil
import subprocess
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

from edgecnn.core.errors import BadInputError, MissingDependencyError, RunFailedError
from edgecnn.core.manifest import manifest_path
from edgecnn.core.shapes import format_shape
from edgecnn.device.bench import BenchResult

# BatchMode: never prompt for a password or a host key, fail instead (exit 255).
# ServerAlive*: a Pi that drops off the network is noticed within a minute, not at the timeout.
SSH_DEFAULTS = (
    "-o", "BatchMode=yes",
    "-o", "ConnectTimeout=10",
    "-o", "ServerAliveInterval=15",
    "-o", "ServerAliveCountMax=4",
    "-T",
)  # fmt: skip

# Printed by the remote script just before the benchmark, so that whatever a login script
# prints on stdout (a chatty ~/.bashrc) is not mistaken for the JSON rows.
_MARKER = "@@edgecnn-benchmark-json@@"

_REMOTE_RE = re.compile(
    r"(?:(?P<user>[A-Za-z0-9._][A-Za-z0-9._-]*)@)?"
    r"(?:\[(?P<ipv6>[0-9A-Fa-f:.]+(?:%[A-Za-z0-9._-]+)?)\]|(?P<host>[A-Za-z0-9_][A-Za-z0-9._-]*))"
    r"(?::(?P<port>[0-9]{1,5}))?"
)
_REMOTE_FORMAT = "[user@]host[:port], e.g. pi@raspberrypi.local or pi@192.168.1.20:2222"

_INSTALL_HINT = 'on the Pi: pip install "edgecnn[device]"'


@dataclass(frozen=True)
class Remote:
    """An ssh destination parsed from ``[user@]host[:port]`` (IPv6 in brackets)."""

    host: str
    user: str | None = None
    port: int | None = None

    @property
    def destination(self) -> str:
        """The destination argument of ``ssh`` (its port goes to ``-p``)."""
        return f"{self.user}@{self.host}" if self.user else self.host

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        user = f"{self.user}@" if self.user else ""
        return user + host + (f":{self.port}" if self.port else "")


@dataclass(frozen=True)
class RemoteBenchResult(BenchResult):
    """A BenchResult measured on ``host``; ``path`` is the model's local path."""

    host: str


def parse_remote(text: str) -> Remote:
    """Parses ``--remote``: ``host``, ``user@host``, either with ``:port``; IPv6 as ``[addr]``.

    A host may also be an alias from ``~/.ssh/config``.

    Raises:
        BadInputError: anything else, including values that ssh would read as an option.
    """
    match = _REMOTE_RE.fullmatch(text or "")
    port = int(match["port"]) if match and match["port"] else None
    if not match or (port is not None and not 1 <= port <= 65535):
        raise BadInputError(
            f"--remote {text!r} is not a valid ssh destination; use {_REMOTE_FORMAT}"
        )
    return Remote(host=match["ipv6"] or match["host"], user=match["user"], port=port)


def benchmark_remote(
    models: Sequence[str | os.PathLike],
    *,
    remote: str,
    threads: int | None = None,
    runs: int = 100,
    warmup: int = 10,
    ssh_options: Iterable[str] = (),
    remote_edgecnn: str = "edgecnn",
    timeout: float = 600.0,
    input_shape: tuple[int, ...] | None = None,
) -> list[RemoteBenchResult]:
    """Runs ``edgecnn benchmark --json`` on ``remote`` over ssh and returns its rows.

    Args:
        models: local .tflite files; each one's manifest (``<name>.json``) goes along if present.
        remote: ``[user@]host[:port]``, see :func:`parse_remote`.
        threads: interpreter threads on the remote [LiteRT's default].
        runs: timed invokes per model.
        warmup: untimed invokes before the timed ones.
        ssh_options: extra ssh arguments placed first, so they win (e.g. ``("-i", key)``).
        remote_edgecnn: the edgecnn command on the remote, as shell words (``~`` expands),
            e.g. ``~/.venv/bin/edgecnn``.
        timeout: seconds for the whole session before it is killed.
        input_shape: sizes (without the batch) for a dynamic-input model.

    Returns:
        One row per model, in order, with the local path and the remote host.

    Raises:
        BadInputError: a bad ``remote``, a missing model, bad counts, or a host that cannot
            be reached or refuses the login (ssh exit 255).
        RunFailedError: the remote edgecnn is missing, fails, times out or prints no rows.
        MissingDependencyError: no ``ssh`` client on this machine.
    """
    target = parse_remote(remote)
    paths = _check_models(models, runs=runs, warmup=warmup, threads=threads)
    payload, names = _bundle(paths)
    script = remote_script(names, remote_edgecnn=remote_edgecnn, threads=threads, runs=runs,
                           warmup=warmup, input_shape=input_shape)
    command = ssh_command(target, script, ssh_options=ssh_options)
    stdout = _run(command, payload, target=target, remote_edgecnn=remote_edgecnn, timeout=timeout)
    return _rows(stdout, paths, target)


def _check_models(models, *, runs: int, warmup: int, threads: int | None) -> list[Path]:
    # Checked here so that a typo fails at once, not after connecting to the Pi.
    if runs < 1 or warmup < 0:
        raise BadInputError(f"--runs ({runs}) must be >= 1 and --warmup ({warmup}) >= 0")
    if threads is not None and threads < 1:
        raise BadInputError(f"--threads ({threads}) must be >= 1")
    if not models:
        raise BadInputError("no model files given to benchmark")
    paths = [Path(m) for m in models]
    for path in paths:
        if not path.is_file():
            raise BadInputError(f"model file {path} does not exist")
    return paths


def _bundle(paths: Sequence[Path]) -> tuple[bytes, list[str]]:
    """A tar of the models (each with its manifest) and their names inside it.

    Each model gets its own numbered folder: two models with the same file name from
    different runs must not overwrite each other, and a manifest must stay beside its model.
    """
    buffer = io.BytesIO()
    names = []
    # GNU format: long names are fine and busybox tar on small Pi images reads it.
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for i, path in enumerate(paths):
            name = f"{i}/{path.name}"
            tar.add(path, arcname=name, filter=_plain)
            card = manifest_path(path)
            if card.is_file():
                tar.add(card, arcname=f"{i}/{card.name}", filter=_plain)
            names.append(name)
    return buffer.getvalue(), names


def _plain(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # Local owners mean nothing on the Pi (and root would restore them there).
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o644
    return info


def remote_script(
    names: Sequence[str],
    *,
    remote_edgecnn: str,
    threads: int | None,
    runs: int,
    warmup: int,
    input_shape: tuple[int, ...] | None = None,
) -> str:
    """The POSIX sh script run on the remote; it reads the tar of :func:`_bundle` on stdin."""
    args = [*names, "--json", "--runs", str(runs), "--warmup", str(warmup)]
    if threads is not None:
        args += ["--threads", str(threads)]
    if input_shape is not None:
        args += ["--input-shape", format_shape(input_shape)]
    # The EXIT trap removes the folder on success and failure; HUP/INT/TERM become an exit so
    # that the trap runs for them too.
    return "\n".join([
        'd=$(mktemp -d "${TMPDIR:-/tmp}/edgecnn-bench.XXXXXX") || exit 90',
        "trap 'rm -rf \"$d\"' EXIT",
        "trap 'exit 129' HUP INT TERM",
        'cd "$d" && tar -xf - || { echo "edgecnn: cannot unpack the models in $d" >&2; exit 91; }',
        f"echo {_MARKER}",
        f"{remote_edgecnn} benchmark {shlex.join(args)}",
    ])  # fmt: skip


def ssh_command(target: Remote, script: str, *, ssh_options: Iterable[str] = ()) -> list[str]:
    """The ssh argv that runs ``script`` with ``sh`` on ``target``.

    The script is wrapped in ``sh -c`` because ssh hands the command to the user's login
    shell, which need not be a POSIX shell.
    """
    port = ["-p", str(target.port)] if target.port else []
    return ["ssh", *ssh_options, *SSH_DEFAULTS, *port, "--", target.destination,
            "sh -c " + shlex.quote(script)]  # fmt: skip


def _run(command: list[str], payload: bytes, *, target: Remote, remote_edgecnn: str,
         timeout: float) -> str:
    """Runs the ssh command and returns its stdout, or raises the error its failure means."""
    if shutil.which(command[0]) is None:
        raise MissingDependencyError(
            "no ssh client on this machine; install OpenSSH (apt-get install openssh-client)"
        )
    try:
        proc = subprocess.run(command, input=payload, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RunFailedError(
            f"the benchmark on {target} did not finish within {timeout:g}s; fewer --runs?"
        ) from None
    stderr = proc.stderr.decode(errors="replace")
    if proc.returncode != 0:
        raise _failure(proc.returncode, _last_line(stderr), target, remote_edgecnn)
    return proc.stdout.decode(errors="replace")


def _failure(code: int, last: str, target: Remote, remote_edgecnn: str) -> Exception:
    # ssh reserves 255 for its own errors: no route, refused, timeout, host key, login.
    if code == 255:
        return BadInputError(f"cannot reach or log in to {target} over ssh: {last}")
    if code in (126, 127):
        return RunFailedError(
            f"{remote_edgecnn!r} cannot be run on {target}: {last}; install it {_INSTALL_HINT}, "
            "or give its full path with --remote-edgecnn (e.g. ~/.venv/bin/edgecnn)"
        )
    hint = "" if "edgecnn[" in last else f" ({_INSTALL_HINT} or pip install -U)"
    return RunFailedError(f"the benchmark on {target} failed (exit {code}): {last}{hint}")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no error output"


def _rows(stdout: str, paths: Sequence[Path], target: Remote) -> list[RemoteBenchResult]:
    """The remote JSON rows as RemoteBenchResults with local paths."""
    _, found, payload = stdout.rpartition(_MARKER)
    try:
        rows = json.loads(payload) if found else None
    except ValueError:
        rows = None
    if not isinstance(rows, list) or len(rows) != len(paths):
        raise RunFailedError(
            f"edgecnn on {target} did not print {len(paths)} JSON row(s): "
            f"{_last_line(payload)[:200]} ({_INSTALL_HINT} or pip install -U)"
        )
    return [_result(row, path, target) for row, path in zip(rows, paths, strict=True)]


def _result(row: dict, path: Path, target: Remote) -> RemoteBenchResult:
    # Only the known keys: a newer edgecnn on the Pi may add some.
    try:
        values = {f.name: row[f.name] for f in fields(BenchResult)}
    except (KeyError, TypeError) as exc:
        raise RunFailedError(
            f"edgecnn on {target} printed rows without {exc}; use the same edgecnn version "
            "on both machines"
        ) from None
    values["path"] = str(path)
    return RemoteBenchResult(**values, host=target.host)
