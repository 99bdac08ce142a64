"""C/C++ literals for generated sources: byte arrays, strings and exact float constants."""

from __future__ import annotations

import numpy as np

BYTES_PER_LINE = 12


def c_bytes(data: bytes, *, indent: str = "    ") -> str:
    """The bytes as the body of a C array initializer: ``0x1c, 0x00, ...`` lines."""
    lines = []
    for start in range(0, len(data), BYTES_PER_LINE):
        chunk = data[start : start + BYTES_PER_LINE]
        lines.append(indent + ", ".join(f"0x{b:02x}" for b in chunk) + ",")
    return "\n".join(lines)


def c_string(text: str) -> str:
    """A C string literal holding ``text`` as UTF-8, safe for any label.

    Non-printable and non-ASCII bytes become three-digit octal escapes: unlike ``\\x``
    escapes they cannot swallow a following hex digit. ``?`` is escaped so no trigraph forms.
    """
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        if char in '"\\?':
            out.append("\\" + char)
        elif 0x20 <= byte < 0x7F:
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def c_float(value: float) -> str:
    """A ``float`` literal that parses to exactly ``np.float32(value)``.

    The shortest decimal that round-trips in float32, so the device computes with the very
    same constants as the host runtime.
    """
    f32 = np.float32(value)
    if not np.isfinite(f32):
        raise ValueError(f"cannot write a non-finite float constant: {value!r}")
    if f32 == 0 or 1e-4 <= abs(f32) < 1e7:
        return np.format_float_positional(f32, unique=True, trim="0") + "f"
    return np.format_float_scientific(f32, unique=True, trim="0").replace("e+", "e") + "f"
