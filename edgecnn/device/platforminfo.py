"""What machine this is: Raspberry Pi model, CPU core, userland bitness, OS, glibc.

Parsing is split from reading so that it can be checked on sample texts of other boards.
Standard library only: ``edgecnn doctor`` must work where nothing else does.
"""

from __future__ import annotations

import os
import platform
import re
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

# (implementer, part) from /proc/cpuinfo -> core name; the cores of every Raspberry Pi.
CORES = {
    ("0x41", "0xb76"): "ARM1176",  # Pi 1, Zero, Zero W
    ("0x41", "0xc07"): "Cortex-A7",  # Pi 2 v1.1
    ("0x41", "0xd03"): "Cortex-A53",  # Pi 3, Zero 2 W, Pi 2 v1.2
    ("0x41", "0xd08"): "Cortex-A72",  # Pi 4, 400, CM4
    ("0x41", "0xd0b"): "Cortex-A76",  # Pi 5, CM5
}

# Bits of `vcgencmd get_throttled` (Raspberry Pi firmware documentation).
THROTTLE_BITS = {
    0: "under-voltage now",
    1: "ARM frequency capped now",
    2: "throttled now",
    3: "soft temperature limit now",
    16: "under-voltage since boot",
    17: "ARM frequency capped since boot",
    18: "throttled since boot",
    19: "soft temperature limit since boot",
}


@dataclass(frozen=True)
class CpuInfo:
    """What /proc/cpuinfo says.

    Attributes:
        processors: the number of ``processor`` blocks.
        core: the core name (e.g. ``Cortex-A72``) or None when unknown.
        model: the board model line (Raspberry Pi kernels add one), or None.
        revision: the board revision code, or None.
        isa: ``armv8`` or ``armv7`` (from ``CPU architecture``), ``x86`` or None.
    """

    processors: int
    core: str | None
    model: str | None
    revision: str | None
    isa: str | None


def parse_cpuinfo(text: str) -> CpuInfo:
    """Parses /proc/cpuinfo text of an Arm or x86 Linux machine."""
    fields: dict[str, str] = {}
    processors = 0
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == "processor":
            processors += 1
        fields.setdefault(key, value)
    core = CORES.get((fields.get("CPU implementer", ""), fields.get("CPU part", "")))
    return CpuInfo(
        processors=processors,
        core=core or fields.get("model name"),
        model=fields.get("Model"),
        revision=fields.get("Revision"),
        isa=_isa(fields),
    )


def _isa(fields: dict[str, str]) -> str | None:
    arch = fields.get("CPU architecture")
    if arch:
        digits = re.match(r"\d+", arch)
        return f"armv{digits.group()}" if digits else None
    return "x86" if "vendor_id" in fields else None


def parse_device_tree_model(data: bytes) -> str | None:
    """The board name in /proc/device-tree/model (NUL-terminated), or None if empty."""
    text = data.split(b"\0", 1)[0].decode("utf-8", "replace").strip()
    return text or None


def is_raspberry_pi(model: str | None) -> bool:
    """True when the board model names a Raspberry Pi."""
    return bool(model) and model.startswith("Raspberry Pi")


def userland_arch(machine: str, pointer_bits: int) -> str:
    """The architecture wheels must be built for: a 32-bit userland on a 64-bit kernel is armv7l.

    Args:
        machine: the kernel's ``uname -m`` (e.g. aarch64 even under 32-bit Raspberry Pi OS).
        pointer_bits: 32 or 64, the running Python's pointer size.
    """
    if pointer_bits == 32 and machine in ("aarch64", "arm64", "armv8l"):
        return "armv7l"
    if pointer_bits == 32 and machine == "x86_64":
        return "i686"
    return machine


def decode_throttled(text: str) -> tuple[int, list[str]] | None:
    """Parses ``throttled=0x50005`` into the value and its named bits; None if unparsable."""
    match = re.search(r"0x([0-9a-fA-F]+)", text)
    if not match:
        return None
    value = int(match.group(1), 16)
    return value, [name for bit, name in THROTTLE_BITS.items() if value >> bit & 1]


def parse_os_release(text: str) -> str | None:
    """PRETTY_NAME from /etc/os-release text."""
    for line in text.splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"') or None
    return None


def read_text(path: str | Path) -> str | None:
    """A small system file's text, or None when it is missing or unreadable."""
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def host_cpuinfo() -> CpuInfo:
    """This machine's /proc/cpuinfo, parsed (empty where there is none)."""
    return parse_cpuinfo(read_text("/proc/cpuinfo") or "")


def board_model(cpuinfo: CpuInfo, root: Path = Path("/")) -> tuple[str | None, str | None]:
    """The board model and where it came from (``device-tree`` or ``cpuinfo``)."""
    try:
        from_tree = parse_device_tree_model((root / "proc/device-tree/model").read_bytes())
    except OSError:
        from_tree = None
    if from_tree:
        return from_tree, "device-tree"
    return (cpuinfo.model, "cpuinfo") if cpuinfo.model else (None, None)


def pointer_bits() -> int:
    """32 or 64: the running Python's pointer size (the userland's bitness)."""
    return struct.calcsize("P") * 8


def glibc_version() -> str | None:
    """The C library version, e.g. ``glibc 2.36``; None on non-glibc systems."""
    try:
        return os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):
        name, version = platform.libc_ver()
        return f"{name} {version}" if name else None


def cpu_governor() -> str | None:
    """cpu0's frequency governor, or None where cpufreq is not exposed."""
    text = read_text("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
    return text.strip() if text else None


def soc_temperature_c() -> float | None:
    """The SoC temperature in degrees Celsius from the first thermal zone, or None."""
    text = read_text("/sys/class/thermal/thermal_zone0/temp")
    try:
        return round(int(text.strip()) / 1000, 1) if text else None
    except ValueError:
        return None


def vcgencmd_throttled() -> str | None:
    """The output of ``vcgencmd get_throttled``, or None without the Pi firmware tools."""
    try:
        proc = subprocess.run(
            ["vcgencmd", "get_throttled"], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None
