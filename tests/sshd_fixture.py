"""A real OpenSSH server on 127.0.0.1 for tests, with throwaway host and client keys.

Nothing is installed here: where ``sshd``, ``ssh`` or ``ssh-keygen`` are missing or the
server does not come up, :func:`start_sshd` raises :class:`SshdUnavailable` with the reason.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = "/usr/sbin/sshd"
START_SECONDS = 10.0


class SshdUnavailable(Exception):
    """The test sshd cannot run on this machine; the message says why."""


@dataclass
class Sshd:
    """A running test server: where it listens and how to log in to it."""

    process: subprocess.Popen
    port: int
    user: str
    client_key: Path
    log: Path

    @property
    def remote(self) -> str:
        """``user@127.0.0.1:port``, as ``--remote`` takes it."""
        return f"{self.user}@127.0.0.1:{self.port}"

    @property
    def ssh_options(self) -> tuple[str, ...]:
        """Client options: our key only, and no known_hosts (the host key is new every run)."""
        return ("-i", str(self.client_key), "-o", "IdentitiesOnly=yes",
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR")  # fmt: skip

    def stop(self) -> None:
        """Stops the server and waits for it (bounded)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_sshd(tmp: Path) -> Sshd:
    """Starts ``sshd -D`` on a free loopback port that accepts a fresh client key.

    Raises:
        SshdUnavailable: a tool is missing, or the server does not start or accept the key.
    """
    missing = [t for t in ("ssh", "ssh-keygen") if shutil.which(t) is None]
    if missing or not os.access(SSHD, os.X_OK):
        raise SshdUnavailable(f"OpenSSH not installed ({', '.join(missing) or SSHD} missing); "
                              "apt-get install openssh-server")
    host_key, client_key = _keygen(tmp / "host_key"), _keygen(tmp / "client_key")
    (tmp / "authorized_keys").write_text(Path(f"{client_key}.pub").read_text())
    if os.geteuid() == 0:
        # Debian's sshd refuses to start as root without its privilege-separation folder.
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    port, log = free_port(), tmp / "sshd.log"
    config = _write_config(tmp, host_key)
    process = subprocess.Popen([SSHD, "-D", "-f", str(config), "-p", str(port), "-E", str(log)],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    server = Sshd(process, port, pwd.getpwuid(os.getuid()).pw_name, client_key, log)
    try:
        _wait_for_port(server)
        _check_login(server)
    except SshdUnavailable:
        server.stop()
        raise
    return server


def _keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
                   check=True, capture_output=True, timeout=30)  # fmt: skip
    return path


def _write_config(tmp: Path, host_key: Path) -> Path:
    config = tmp / "sshd_config"
    config.write_text(
        "ListenAddress 127.0.0.1\n"
        f"HostKey {host_key}\n"
        f"PidFile {tmp / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {tmp / 'authorized_keys'}\n"
        "PubkeyAuthentication yes\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        # pytest's tmp folders are not laid out the way StrictModes wants ~/.ssh to be.
        "StrictModes no\n"
        "UsePAM no\n"
        "PermitRootLogin prohibit-password\n"
    )
    return config


def _wait_for_port(server: Sshd) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SshdUnavailable(f"sshd exited with {server.process.returncode}: {_log(server)}")
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)  # polling only, bounded by the deadline
    raise SshdUnavailable(f"sshd did not listen within {START_SECONDS:g}s: {_log(server)}")


def _check_login(server: Sshd) -> None:
    destination = f"{server.user}@127.0.0.1"
    proc = subprocess.run(["ssh", *server.ssh_options, "-o", "BatchMode=yes", "-p",
                           str(server.port), destination, "true"],
                          capture_output=True, text=True, timeout=30)  # fmt: skip
    if proc.returncode != 0:
        raise SshdUnavailable(f"cannot log in to the test sshd: {proc.stderr.strip()} "
                              f"{_log(server)}")


def _log(server: Sshd) -> str:
    text = server.log.read_text(errors="replace").strip() if server.log.exists() else ""
    return text.splitlines()[-1] if text else "(no log)"
