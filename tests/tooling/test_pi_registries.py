"""make test-pi takes its package index and Debian mirror only from this machine's pip and
apt configuration (or EDGECNN_PI_PYPI / EDGECNN_PI_MIRROR), and no registry address is
written anywhere in the repository. Preflight only: the full run is `sudo make test-pi`."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests.testkit import REPO

TEST_PI = REPO / "pi" / "test-pi.sh"
NOWHERE = "http://127.0.0.1:9"  # nothing listens there
REGISTRY_HOSTS = re.compile(
    r"https?://[^/\s]*(pypi|pythonhosted|debian\.org|ubuntu\.com|raspbian|npmjs|anaconda)",
    re.IGNORECASE,
)


def test_no_network_address_in_the_scripts_and_no_registry_in_the_readme():
    scripts = [*(REPO / "pi").rglob("*"), REPO / "Makefile", *(REPO / ".ci").rglob("*")]
    for path in (p for p in scripts if p.is_file() and p.suffix != ".pyc"):
        hosts = re.findall(r"https?://[A-Za-z0-9][^\s'\"]*", path.read_text(errors="replace"))
        assert hosts == [], f"{path.relative_to(REPO)} names {hosts}"
    assert not REGISTRY_HOSTS.findall((REPO / "README.md").read_text())


def run_preflight(tmp_path, **env):
    """pi/test-pi.sh as a non-root user (so it stops in preflight), with no pip or apt
    configuration but what ``env`` gives."""
    apt = tmp_path / "apt"
    (apt / "sources.list.d").mkdir(parents=True, exist_ok=True)
    base = {
        "EDGECNN_PI_WORK": str(tmp_path / "work"),
        "EDGECNN_PI_CACHE": str(tmp_path / "cache"),
        "EDGECNN_PI_EUID": "1000",
        "EDGECNN_PI_APT": str(apt),
        "PIP_CONFIG_FILE": os.devnull,  # pip reads no configuration file at all
    }
    clean = {
        k: v for k, v in os.environ.items()
        if k not in ("PIP_INDEX_URL", "EDGECNN_PI_PYPI", "EDGECNN_PI_MIRROR")
    }  # fmt: skip
    proc = subprocess.run(
        ["bash", str(TEST_PI)], capture_output=True, text=True, timeout=120,
        env=clean | base | env,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert all(line.startswith("test-pi: cannot run: missing") for line in lines), lines
    assert not (tmp_path / "work").exists()
    return proc.stderr


def test_without_configured_registries_preflight_says_so(tmp_path):
    # No index configured: pip's default is checked (a proxy that refuses makes it unreachable).
    said = run_preflight(tmp_path, HTTPS_PROXY=NOWHERE, HTTP_PROXY=NOWHERE)
    assert "missing network: pip's default package index is not reachable" in said
    assert "set PIP_INDEX_URL or EDGECNN_PI_PYPI" in said
    assert "missing Debian mirror: none in the host's apt sources" in said
    assert "EDGECNN_PI_MIRROR" in said


def test_the_index_and_mirror_come_from_pip_and_apt_configuration(tmp_path):
    sources = tmp_path / "apt" / "sources.list.d"
    sources.mkdir(parents=True)
    (sources / "debian.sources").write_text(
        f"Types: deb\n# {NOWHERE}/not-this-one\nURIs: {NOWHERE}/debian\nSuites: bookworm\n"
    )
    said = run_preflight(tmp_path, PIP_INDEX_URL=f"{NOWHERE}/simple")
    assert f"PyPI is not reachable ({NOWHERE}/simple) - the index from PIP_INDEX_URL" in said
    assert f"the Debian mirror {NOWHERE}/debian is not reachable" in said


@pytest.mark.parametrize("section", ["global", "install"])
def test_the_index_comes_from_the_pip_config_file(tmp_path, section):
    config = tmp_path / "pip.conf"
    config.write_text(f"[{section}]\nindex-url = {NOWHERE}/conf/\n")
    (tmp_path / "apt").mkdir()
    (tmp_path / "apt" / "sources.list").write_text(
        f"deb [arch=arm64 signed-by=/usr/share/keyrings/k.gpg] {NOWHERE}/mirror/debian/ "
        "bookworm main\n"
    )
    said = run_preflight(tmp_path, PIP_CONFIG_FILE=str(config))
    assert f"({NOWHERE}/conf/) - the index from the host's pip config ({section}.index-url)" in (
        said
    )
    assert f"the Debian mirror {NOWHERE}/mirror/debian is not reachable" in said


def test_a_local_index_is_refused_because_the_rootfs_cannot_see_it(tmp_path):
    said = run_preflight(tmp_path, EDGECNN_PI_PYPI="file:///opt/pypi/simple")
    assert "file:///opt/pypi/simple (from EDGECNN_PI_PYPI) is not an http(s) URL" in said
