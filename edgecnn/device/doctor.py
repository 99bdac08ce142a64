"""``edgecnn doctor``: can this machine run edgecnn models, and what is missing?

Device side: standard library, numpy and (when installed) the LiteRT interpreter; never
TensorFlow. Everything it reports is read, not guessed; what it cannot read is None.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import platform
import sys
from dataclasses import dataclass, field

from edgecnn import __version__
from edgecnn.core import optional
from edgecnn.core.records import Record
from edgecnn.device import platforminfo

INTERPRETERS = (("ai-edge-litert", "ai_edge_litert"), ("tflite-runtime", "tflite_runtime"))
EMULATION_ENV = "EDGECNN_EMULATION"  # set by pi/test-pi.sh, e.g. "qemu-user cortex-a72"
PERFORMANCE_CMD = (
    "echo performance | sudo tee /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor"
)


@dataclass(frozen=True)
class DoctorReport(Record):
    """What ``edgecnn doctor`` found.

    Attributes:
        edgecnn: the edgecnn version.
        board: the board model (a Raspberry Pi's name) or None; board_source says where
            it came from (device-tree or cpuinfo).
        cpu: the CPU core (e.g. Cortex-A72) or model name; cpus: logical CPUs.
        kernel_machine: ``uname -m``; arch: what wheels must be built for (armv7l for a
            32-bit userland on a 64-bit kernel); bits: the userland's bitness.
        os: the OS name from /etc/os-release; python: version; glibc: C library version.
        interpreters: installed interpreter packages and their versions (None = absent).
        interpreter: the package edgecnn uses (the first installed in INTERPRETERS).
        numpy: numpy's version; tensorflow: True when TensorFlow is installed (not needed
            on a device; never imported here).
        probe: the embedded probe model's result (correct, xnnpack, output) or None.
        governor, throttled, temperature_c: a Pi's CPU governor, ``vcgencmd
            get_throttled`` decoded, and SoC temperature; None where not available.
        emulation: what the emulator declared in EDGECNN_EMULATION, or None.
        advice: what to do about each problem found.
    """

    edgecnn: str
    board: str | None
    board_source: str | None
    cpu: str | None
    cpus: int
    kernel_machine: str
    arch: str
    bits: int
    os: str | None
    python: str
    glibc: str | None
    interpreters: dict[str, str | None]
    interpreter: str | None
    numpy: str | None
    tensorflow: bool
    probe: dict | None
    governor: str | None
    throttled: dict | None
    temperature_c: float | None
    emulation: str | None
    advice: list[str] = field(default_factory=list)

    @property
    def is_pi(self) -> bool:
        """True on a Raspberry Pi (or an emulated one whose cpuinfo names a Pi)."""
        return platforminfo.is_raspberry_pi(self.board)

    @property
    def can_run(self) -> bool:
        """True when an interpreter is installed and computed the probe model correctly."""
        probe = self.probe or {}
        return self.interpreter is not None and bool(probe.get("correct"))

    def to_dict(self) -> dict:
        """The fields, then whether this is a Pi and can run models."""
        return super().to_dict() | {"is_pi": self.is_pi, "can_run": self.can_run}


def gather() -> DoctorReport:
    """Looks at this machine and returns the report, advice included."""
    cpuinfo = platforminfo.host_cpuinfo()
    board, source = platforminfo.board_model(cpuinfo)
    on_pi = platforminfo.is_raspberry_pi(board)
    bits, machine = platforminfo.pointer_bits(), platform.machine()
    interpreters = {name: optional.version_of(name) for name, _ in INTERPRETERS}
    in_use = _in_use(interpreters)
    report = DoctorReport(
        edgecnn=__version__,
        board=board,
        board_source=source,
        cpu=cpuinfo.core,
        cpus=os.cpu_count() or cpuinfo.processors,
        kernel_machine=machine,
        arch=platforminfo.userland_arch(machine, bits),
        bits=bits,
        os=platforminfo.parse_os_release(platforminfo.read_text("/etc/os-release") or ""),
        python=platform.python_version(),
        glibc=platforminfo.glibc_version(),
        interpreters=interpreters,
        interpreter=in_use,
        numpy=optional.version_of("numpy"),
        tensorflow=_installed("tensorflow"),
        probe=_probe() if in_use else None,
        governor=platforminfo.cpu_governor() if on_pi else None,
        throttled=_throttled() if on_pi else None,
        temperature_c=platforminfo.soc_temperature_c() if on_pi else None,
        emulation=os.environ.get(EMULATION_ENV) or None,
    )
    return dataclasses.replace(report, advice=advice(report))


def _installed(module: str) -> bool:
    """True when the module can be imported (it is not imported)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _in_use(interpreters: dict[str, str | None]) -> str | None:
    """The interpreter package edgecnn's runtime picks, in the runtime's order of preference."""
    for name, module in INTERPRETERS:
        if interpreters.get(name) or _installed(module):
            return name
    return None


def _probe() -> dict:
    from edgecnn.device.probe import probe_in_subprocess

    return probe_in_subprocess()


def _throttled() -> dict | None:
    text = platforminfo.vcgencmd_throttled()
    decoded = platforminfo.decode_throttled(text) if text else None
    return None if decoded is None else {"value": hex(decoded[0]), "flags": decoded[1]}


def advice(report: DoctorReport) -> list[str]:
    """One line of advice per problem in the report (empty when all is well)."""
    lines = _interpreter_advice(report) + _pi_advice(report)
    if report.emulation:
        lines.append(
            f"running under emulation ({report.emulation}): results prove installation and "
            "numerics, timings say nothing about a real Pi's speed"
        )
    return lines


def _interpreter_advice(report: DoctorReport) -> list[str]:
    if report.interpreter is None:
        return [_install_advice(report.arch)]
    probe = report.probe or {}
    if "error" in probe:
        return [
            f"{probe['error']}: nothing will run here; under qemu-user give the guest an Arm "
            "/proc/cpuinfo matching QEMU_CPU (pi/test-pi.sh shows how), else reinstall with "
            'pip install --force-reinstall "edgecnn[device]"'
        ]
    lines = []
    if probe and not probe.get("correct"):
        lines.append(
            f"the interpreter computed {probe.get('output')} on the probe model, expected "
            "[1.5, 2.0]: results here are wrong; under qemu-user pin a real core "
            "(QEMU_CPU=cortex-a72) and give it a matching /proc/cpuinfo"
        )
    if probe and not probe.get("xnnpack"):
        lines.append(
            "XNNPACK is not active: inference uses the slower builtin kernels and int8 results "
            "may differ by several LSB; in a chroot or container mount /sys"
        )
    return lines


def _install_advice(arch: str) -> str:
    """What to install when no interpreter package is present, for this architecture."""
    if arch == "armv7l":
        return (
            "no LiteRT interpreter: ai-edge-litert publishes no wheel for 32-bit Arm (armv7l); "
            "either pip install tflite-runtime (edgecnn uses it when ai-edge-litert is "
            'missing) or, better, flash 64-bit Raspberry Pi OS and pip install "edgecnn[device]"'
        )
    if arch in ("armv6l", "i686"):
        return (
            f"no LiteRT interpreter, and neither ai-edge-litert nor tflite-runtime publishes "
            f"wheels for {arch}; use a Raspberry Pi Zero 2 W or newer with 64-bit Raspberry Pi OS"
        )
    return 'no LiteRT interpreter is installed: pip install "edgecnn[device]"'


def _pi_advice(report: DoctorReport) -> list[str]:
    lines = []
    if report.is_pi and report.governor and report.governor != "performance":
        lines.append(
            f"CPU governor is {report.governor}: latencies vary with the clock; for stable "
            f"benchmarks: {PERFORMANCE_CMD}"
        )
    flags = (report.throttled or {}).get("flags", [])
    if any("under-voltage" in f for f in flags):
        lines.append("under-voltage detected: use a supply that gives the Pi its rated current")
    if any(("throttled" in f or "capped" in f or "temperature" in f) for f in flags):
        lines.append(
            "the CPU is or was throttled (" + ", ".join(flags) + "): add a heatsink or fan; "
            "latencies measured while throttled are too slow"
        )
    if report.is_pi and report.bits == 32 and report.interpreter is not None:
        lines.append(
            "32-bit userland: 64-bit Raspberry Pi OS runs LiteRT faster (XNNPACK on Armv8)"
        )
    return lines


def format_report(report: DoctorReport) -> str:
    """The report as aligned text lines for people."""
    interp = ", ".join(f"{k} {v or '-'}" for k, v in report.interpreters.items())
    probe = report.probe
    rows = [
        ("edgecnn", report.edgecnn),
        ("board", _board_text(report)),
        ("cpu", f"{report.cpu or 'unknown'} x {report.cpus}"),
        ("system", f"{report.arch} ({report.bits}-bit userland, kernel {report.kernel_machine})"),
        ("os", report.os or "unknown"),
        ("python", f"{report.python} ({sys.executable})"),
        ("glibc", report.glibc or "not glibc"),
        ("interpreter", f"{report.interpreter or 'none'} (installed: {interp})"),
        ("xnnpack", _probe_text(probe, "xnnpack", "active", "NOT active")),
        ("probe", _probe_text(probe, "correct", "correct result", "WRONG result")),
        ("numpy", report.numpy or "not installed"),
        ("tensorflow", "installed (not needed on a device)" if report.tensorflow else "absent"),
    ]
    if report.is_pi:
        rows += _pi_rows(report)
    if report.emulation:
        rows.append(("emulation", report.emulation))
    lines = [f"{k:<12} {v}" for k, v in rows]
    lines += [f"advice: {a}" for a in report.advice] or ["advice: none, all is well"]
    return "\n".join(lines)


def _probe_text(probe: dict | None, key: str, yes: str, no: str) -> str:
    if probe is None:
        return "- (no interpreter)"
    if "error" in probe:
        return f"unknown: {probe['error']}"
    return yes if probe[key] else no


def _board_text(report: DoctorReport) -> str:
    if not report.board:
        return "not a Raspberry Pi (no model in the device tree or /proc/cpuinfo)"
    return f"{report.board} (from {report.board_source})"


def _pi_rows(report: DoctorReport) -> list[tuple[str, str]]:
    throttled = report.throttled
    state = "unknown (no vcgencmd)"
    if throttled:
        flags = ", ".join(throttled["flags"]) or "never throttled since boot"
        state = f"{throttled['value']} ({flags})"
    temp = "unknown" if report.temperature_c is None else f"{report.temperature_c} C"
    return [
        ("governor", report.governor or "unknown"),
        ("throttled", state),
        ("temperature", temp),
    ]
