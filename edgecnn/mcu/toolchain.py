"""The host programs a Cortex-M firmware needs: the Arm GCC toolchain and QEMU.

Each missing piece is named with the Debian package that brings it, one line each.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

from edgecnn.core.errors import BadInputError

__all__ = ["ArmToolchain", "find_qemu", "find_toolchain", "missing_tools"]

# program -> the Debian package that installs it
TOOLS = {
    "arm-none-eabi-gcc": "gcc-arm-none-eabi",
    "arm-none-eabi-g++": "gcc-arm-none-eabi",
    "arm-none-eabi-ar": "binutils-arm-none-eabi",
    "arm-none-eabi-size": "binutils-arm-none-eabi",
    "make": "make",  # runs the firmware's Makefile
}
QEMU = {"qemu-system-arm": "qemu-system-arm"}
# (compiler, a file it must find) -> the package: newlib's nano C library and the C++
# standard library built for it (without them no libc, and no <cstdint> for TFLite Micro).
LIBRARIES = {
    ("arm-none-eabi-gcc", "nano.specs"): "libnewlib-arm-none-eabi",
    ("arm-none-eabi-g++", "libstdc++.a"): "libstdc++-arm-none-eabi-newlib",
}


@dataclass(frozen=True)
class ArmToolchain:
    """Paths of the arm-none-eabi programs and the compiler's version line."""

    cc: str
    cxx: str
    ar: str
    size: str
    version: str


def missing_tools(*, qemu: bool) -> list[str]:
    """One line per missing program: what is missing and the apt-get line that installs it."""
    wanted = TOOLS | (QEMU if qemu else {})
    lines = [
        f"{program} is not installed: apt-get install {package}"
        for program, package in wanted.items()
        if shutil.which(program) is None
    ]
    for (compiler, name), package in LIBRARIES.items():
        if shutil.which(compiler) and not _finds(compiler, name):
            lines.append(f"{compiler} finds no {name}: apt-get install {package}")
    return lines


def find_toolchain(*, qemu: bool = False) -> ArmToolchain:
    """The installed Arm GCC toolchain (and QEMU when ``qemu``).

    Raises:
        BadInputError: something is missing; one line per missing piece.
    """
    lines = missing_tools(qemu=qemu)
    if lines:
        raise BadInputError("\n".join(lines))
    version = subprocess.run(
        ["arm-none-eabi-gcc", "--version"], capture_output=True, text=True, check=False
    ).stdout.splitlines()
    return ArmToolchain(
        cc=shutil.which("arm-none-eabi-gcc"),
        cxx=shutil.which("arm-none-eabi-g++"),
        ar=shutil.which("arm-none-eabi-ar"),
        size=shutil.which("arm-none-eabi-size"),
        version=version[0] if version else "unknown",
    )


def find_qemu() -> str:
    """``qemu-system-arm``'s path.

    Raises:
        BadInputError: it is not installed (with the apt-get line).
    """
    path = shutil.which("qemu-system-arm")
    if path is None:
        raise BadInputError("qemu-system-arm is not installed: apt-get install qemu-system-arm")
    return path


def _finds(compiler: str, name: str) -> bool:
    """Whether ``compiler`` finds ``name`` (it echoes a bare name when it does not)."""
    done = subprocess.run(
        [compiler, f"-print-file-name={name}"],
        capture_output=True, text=True, check=False,
    )
    return done.returncode == 0 and "/" in done.stdout.strip()
