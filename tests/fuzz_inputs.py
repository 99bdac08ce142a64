"""Seeded random inputs for the parsers' fuzz tests: WAV files and manifest edits.

Plain ``random.Random(seed)``: the same seed gives the same cases on every machine, so a
failure names a case number that can be replayed alone.
"""

from __future__ import annotations

import copy
import json
import random
import struct
from typing import Any

GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
# Values a damaged or hostile header or manifest might hold: edges of every integer width,
# sizes far past the bounds, wrong types.
INTS = [0, 1, 2, 3, 7, 8, 16, 24, 32, 64, 255, 256, 999, 1000, 8000, 16000, 44100, 48000,
        65535, 65536, 384000, 384001, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**62, 2**64, 10**30,
        -1, -(2**31)]
ODD_VALUES = [None, True, False, "", "x", "int8", "audio", "nan", "1e9", [], {}, [0], [1, 2],
              [10**6, 10**6, 3], [-1], 0.5, -0.0, 1e308, -1e308, float("nan"), float("inf"),
              1e-320, "\udcff", "x" * 300, {"a": 1}, [[1]], [None]]


def _u32(rng: random.Random) -> int:
    return rng.choice(INTS + [rng.getrandbits(32)]) & 0xFFFFFFFF


def _u16(rng: random.Random) -> int:
    return rng.choice([0, 1, 2, 3, 6, 8, 12, 16, 24, 32, 64, 255, 65535, rng.getrandbits(16)])


def _chunk(cid: bytes, body: bytes, declared: int | None = None) -> bytes:
    size = len(body) if declared is None else declared & 0xFFFFFFFF
    return cid + struct.pack("<I", size) + body + b"\0" * (len(body) & 1)


def _fmt_chunk(rng: random.Random) -> bytes:
    """Mostly a plausible format, half of those with one field at random; else all random."""
    tag, channels, bits = rng.choice([(1, 1, 16), (1, 2, 16), (1, 1, 8), (1, 1, 24),
                                      (1, 2, 32), (3, 1, 32), (3, 2, 64), (0xFFFE, 1, 16)])
    rate = rng.choice([8000, 16000, 22050, 44100, 48000, 96000])
    fields = [tag, channels, rate, rate * channels * bits // 8, channels * bits // 8, bits]
    wild = [rng.choice([1, 1, 3, 3, 0xFFFE, 2, 6, 0, 0x55, rng.getrandbits(16)]),
            rng.choice([1, 1, 2, 0, 3, 8, 255, 65535, rng.getrandbits(16)]), _u32(rng),
            _u32(rng), _u16(rng), rng.choice([8, 16, 24, 32, 64, 0, 1, 12, 65535])]
    roll = rng.random()
    if roll < 0.35:
        k = rng.randrange(len(fields))
        fields[k] = wild[k]
    elif roll > 0.7:
        fields = wild
    body = struct.pack("<HHIIHH", *fields)
    if fields[0] == 0xFFFE or rng.random() < 0.1:
        guid = GUID_TAIL if rng.random() < 0.8 else bytes(rng.getrandbits(8) for _ in range(14))
        sub = rng.choice([1, 3, 2, rng.getrandbits(16)])
        body += struct.pack("<HHI", 22, fields[5], 3) + struct.pack("<H", sub) + guid
    if rng.random() < 0.1:
        body = body[: rng.randrange(len(body))]  # a cut fmt body
    declared = rng.choice([None] * 8 + [_u32(rng)])
    return _chunk(b"fmt ", body, declared)


def _data_chunk(rng: random.Random) -> bytes:
    body = bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 2, 3, 7, 64, 999, 4000])))
    declared = rng.choice([None] * 10 + [0, 0x7FFFFF00, 0x80000000, 0xFFFFFFFF, _u32(rng)])
    return _chunk(b"data", body, declared)


def _extra_chunk(rng: random.Random) -> bytes:
    cid = rng.choice([b"LIST", b"fact", b"ds64", b"JUNK", b"\0\0\0\0"])
    if cid == b"ds64":
        body = struct.pack("<QQQI", rng.getrandbits(64), rng.getrandbits(64), 0, 0)
    else:
        body = bytes(rng.getrandbits(8) for _ in range(rng.randrange(12)))
    return _chunk(cid, body, rng.choice([None] * 4 + [_u32(rng)]))


def wav_case(seed: int) -> bytes:
    """One random WAV: a RIFF/RF64 structure with random fmt fields, chunk order and sizes,
    data shorter or longer than declared, and sometimes a cut at a random byte."""
    rng = random.Random(seed)
    chunks = [_fmt_chunk(rng), _data_chunk(rng)]
    chunks += [_extra_chunk(rng) for _ in range(rng.choice([0, 0, 0, 1, 2]))]
    if rng.random() < 0.15:
        rng.shuffle(chunks)
    body = b"WAVE" + b"".join(chunks)
    magic = rng.choice([b"RIFF"] * 10 + [b"RF64", b"RIFX"])
    data = magic + struct.pack("<I", rng.choice([len(body), 0, 0xFFFFFFFF])) + body
    if rng.random() < 0.1:
        data = data[: rng.randrange(len(data) + 1)]
    return data


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value in a JSON tree (keys and list indexes)."""
    out = [prefix] if prefix else []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(
        node, list) else ()
    for key, child in items:
        out += _paths(child, (*prefix, key))
    return out


def _value(rng: random.Random) -> Any:
    if rng.random() < 0.5:
        return rng.choice(INTS) * rng.choice([1, 1, 1, -1])
    return copy.deepcopy(rng.choice(ODD_VALUES))


def _edit(rng: random.Random, data: dict) -> None:
    path = rng.choice(_paths(data))
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    key, action = path[-1], rng.random()
    if action < 0.6:
        parent[key] = _value(rng)
    elif action < 0.75 and isinstance(parent, dict):
        del parent[key]
    elif action < 0.85 and isinstance(parent, dict):
        parent[rng.choice(["extra", "Labels", "", "sha256 "])] = _value(rng)
    elif isinstance(parent[key], list) and parent[key]:
        parent[key] = parent[key] * rng.choice([0, 2, 1000])  # emptied or multiplied
    else:
        parent[key] = [parent[key]] if rng.random() < 0.5 else {"value": parent[key]}


def manifest_case(seed: int, original: dict) -> bytes:
    """The manifest with 1 to 3 random edits, sometimes cut short or not UTF-8 at all."""
    rng = random.Random(seed)
    data = copy.deepcopy(original)
    for _ in range(rng.choice([1, 1, 2, 3])):
        if not isinstance(data, dict) or not data:
            break
        _edit(rng, data)
    text = json.dumps(data, allow_nan=True).encode("utf-8", "surrogatepass")
    roll = rng.random()
    if roll < 0.05:
        return text[: rng.randrange(len(text) + 1)]
    if roll < 0.08:
        return b"\xff\xfe" + text
    return text

