"""edgecnn doctor: this host, sample Raspberry Pi texts, and advice when something is missing."""

import dataclasses
import json
import platform
import subprocess
import sys

import pytest
from click.testing import CliRunner

from edgecnn import __version__
from edgecnn.cli import cli
from edgecnn.device import doctor, platforminfo
from tests.testkit import REPO

PI4 = """processor\t: 0
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm crc32 cpuid
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x0
CPU part\t: 0xd08
CPU revision\t: 3

processor\t: 1
CPU implementer\t: 0x41
CPU architecture: 8
CPU part\t: 0xd08

Revision\t: c03114
Serial\t\t: 10000000abcdef01
Model\t\t: Raspberry Pi 4 Model B Rev 1.4
"""

PI5 = """processor\t: 0
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x4
CPU part\t: 0xd0b
CPU revision\t: 1

Revision\t: d04170
Model\t\t: Raspberry Pi 5 Model B Rev 1.0
"""

ZERO2W = PI4.replace("0xd08", "0xd03").replace(
    "Raspberry Pi 4 Model B Rev 1.4", "Raspberry Pi Zero 2 W Rev 1.0"
)

PI3_32BIT = """processor\t: 0
model name\t: ARMv7 Processor rev 4 (v7l)
BogoMIPS\t: 38.40
Features\t: half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae evtstrm crc32
CPU implementer\t: 0x41
CPU architecture: 7
CPU variant\t: 0x0
CPU part\t: 0xd03
CPU revision\t: 4

Hardware\t: BCM2835
Revision\t: a020d3
Model\t\t: Raspberry Pi 3 Model B Plus Rev 1.3
"""


def test_cpuinfo_of_raspberry_pis():
    pi4, pi5 = platforminfo.parse_cpuinfo(PI4), platforminfo.parse_cpuinfo(PI5)
    assert (pi4.core, pi4.model, pi4.processors, pi4.isa) == (
        "Cortex-A72",
        "Raspberry Pi 4 Model B Rev 1.4",
        2,
        "armv8",
    )
    assert (pi5.core, pi5.revision, pi5.model) == (
        "Cortex-A76",
        "d04170",
        "Raspberry Pi 5 Model B Rev 1.0",
    )
    zero = platforminfo.parse_cpuinfo(ZERO2W)
    assert (zero.core, zero.model) == ("Cortex-A53", "Raspberry Pi Zero 2 W Rev 1.0")
    old = platforminfo.parse_cpuinfo(PI3_32BIT)
    assert (old.core, old.isa) == ("Cortex-A53", "armv7")
    assert platforminfo.is_raspberry_pi(old.model) and not platforminfo.is_raspberry_pi(None)


def test_device_tree_model_and_board_source(tmp_path):
    assert platforminfo.parse_device_tree_model(b"Raspberry Pi 5 Model B Rev 1.0\x00") == (
        "Raspberry Pi 5 Model B Rev 1.0"
    )
    assert platforminfo.parse_device_tree_model(b"\x00") is None
    tree = tmp_path / "proc" / "device-tree"
    tree.mkdir(parents=True)
    (tree / "model").write_bytes(b"Raspberry Pi 4 Model B Rev 1.5\x00")
    cpu = platforminfo.parse_cpuinfo(PI4)
    assert platforminfo.board_model(cpu, tmp_path) == (
        "Raspberry Pi 4 Model B Rev 1.5",
        "device-tree",
    )
    assert platforminfo.board_model(cpu, tmp_path / "none") == (cpu.model, "cpuinfo")


def test_userland_arch_throttling_and_os_release():
    assert platforminfo.userland_arch("aarch64", 32) == "armv7l"  # 32-bit OS, 64-bit kernel
    assert platforminfo.userland_arch("aarch64", 64) == "aarch64"
    assert platforminfo.userland_arch("armv7l", 32) == "armv7l"
    value, flags = platforminfo.decode_throttled("throttled=0x50005")
    assert value == 0x50005
    assert flags == ["under-voltage now", "throttled now", "under-voltage since boot",
                     "throttled since boot"]
    assert platforminfo.decode_throttled("garbage") is None
    text = 'NAME="Debian"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'
    assert platforminfo.parse_os_release(text) == "Debian GNU/Linux 12 (bookworm)"


@pytest.fixture(scope="module")
def host_report():
    """gather() on this host, once (it runs the probe model in a child Python)."""
    return doctor.gather()


def test_doctor_on_this_host(host_report):
    report = host_report
    assert report.edgecnn == __version__
    assert report.python == platform.python_version()
    assert report.bits in (32, 64) and report.cpus >= 1
    assert report.arch == platforminfo.userland_arch(platform.machine(), report.bits)
    assert report.glibc is None or report.glibc.startswith("glibc ")
    assert report.interpreter == "ai-edge-litert"  # the dev install has the device extra
    assert report.probe == {"correct": True, "xnnpack": True, "output": [1.5, 2.0]}
    assert report.emulation is None
    data = report.to_dict()
    assert json.loads(json.dumps(data))["interpreters"]["ai-edge-litert"]
    if not report.is_pi:
        assert report.governor is None and report.throttled is None


def test_doctor_cli_text_and_json():
    text = CliRunner().invoke(cli, ["doctor"])
    assert text.exit_code == 0, text.output
    assert "interpreter  ai-edge-litert" in text.output and "xnnpack      active" in text.output
    as_json = CliRunner().invoke(cli, ["doctor", "--json"])
    assert json.loads(as_json.output)["python"] == platform.python_version()
    bad = CliRunner().invoke(cli, ["doctor", "--out", "x"])
    assert bad.exit_code == 2 and "--conformance" in bad.output


def test_advice_names_what_to_install_when_no_interpreter(monkeypatch):
    monkeypatch.setattr(doctor.optional, "version_of", lambda name: None)
    monkeypatch.setattr(doctor, "_installed", lambda module: False)
    report = doctor.gather()
    assert report.interpreter is None and report.probe is None
    assert 'pip install "edgecnn[device]"' in " ".join(report.advice)
    assert "no interpreter" in doctor.format_report(report)
    assert not report.can_run
    missing = CliRunner().invoke(cli, ["doctor"])
    assert missing.exit_code == 1 and "cannot run correctly here" in missing.output
    pi3 = dataclasses.replace(report, arch="armv7l", bits=32, board="Raspberry Pi 3 Model B")
    (line,) = doctor.advice(pi3)
    assert "armv7l" in line and "tflite-runtime" in line and "64-bit" in line
    zero = dataclasses.replace(report, arch="armv6l", bits=32)
    assert "Zero 2 W or newer" in doctor.advice(zero)[0]


def test_advice_on_a_pi_governor_throttling_and_broken_interpreter(host_report):
    base = host_report
    pi = dataclasses.replace(
        base,
        board="Raspberry Pi 4 Model B Rev 1.4",
        governor="ondemand",
        throttled={"value": "0x50005", "flags": ["under-voltage now", "throttled now"]},
        temperature_c=71.5,
        probe={"correct": True, "xnnpack": False, "output": [1.5, 2.0]},
    )
    text = " | ".join(doctor.advice(pi))
    assert "governor is ondemand" in text and "scaling_governor" in text
    assert "under-voltage" in text and "heatsink" in text and "mount /sys" in text
    rows = doctor.format_report(dataclasses.replace(pi, advice=doctor.advice(pi)))
    assert "governor     ondemand" in rows and "71.5 C" in rows and "NOT active" in rows
    assert pi.can_run  # slow or throttled is advice, not a failure
    crashed = dataclasses.replace(base, probe={"error": "the interpreter crashed with SIGSEGV"})
    assert not crashed.can_run
    assert "/proc/cpuinfo" in doctor.advice(crashed)[0]
    emulated = dataclasses.replace(base, emulation="qemu-user cortex-a72")
    assert "timings say nothing" in doctor.advice(emulated)[-1]


BLOCKED = """
import importlib.abc, json, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "keras", "sklearn"):
            raise ImportError("blocked: " + name)

sys.meta_path.insert(0, Block())
import pytest
from click.testing import CliRunner
from edgecnn.cli import cli
import edgecnn.device.conformance.check, edgecnn.device.conformance.compare
result = CliRunner().invoke(cli, ["doctor", "--json"])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "sklearn"))
print(json.dumps({"exit": result.exit_code, "out": result.stdout, "heavy": heavy}))
"""


def test_doctor_and_conformance_run_without_tensorflow():
    proc = subprocess.run(
        [sys.executable, "-c", BLOCKED], capture_output=True, text=True, check=True
    )
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["exit"] == 0 and report["heavy"] == []
    assert json.loads(report["out"])["probe"]["correct"] is True
    root = REPO / "edgecnn"
    device = root / "device"
    files = [device / "doctor.py", device / "platforminfo.py", device / "probe.py"]
    for path in files + sorted((device / "conformance").glob("*.py")):
        text = path.read_text()
        for word in ("tensorflow", "keras", "edgecnn.training", "edgecnn.optimize", "tfdeps"):
            assert f"import {word}" not in text and f"from {word}" not in text, (path, word)
