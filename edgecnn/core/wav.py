"""WAV files without the ``wave`` module: PCM 8/16/24/32-bit, float 32/64, extensible.

Also band-limited resampling (polyphase windowed sinc, as ``scipy.signal.resample_poly``)
in numpy alone, so a Pi can read a recording at any rate and feed a 16 kHz model.
"""

from __future__ import annotations

import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecnn.core.errors import BadInputError
from edgecnn.core.fileio import write_bytes

PCM, FLOAT, EXTENSIBLE = 1, 3, 0xFFFE
# The GUID tail every WAVE_FORMAT_EXTENSIBLE subformat shares; its first 2 bytes are the tag.
_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
_TAG_NAMES = {2: "MS ADPCM", 6: "A-law", 7: "mu-law", 0x11: "IMA ADPCM", 0x22: "TrueSpeech",
              0x31: "GSM 6.10", 0x50: "MPEG", 0x55: "MPEG layer 3", 0x161: "WMA"}
_SUPPORTED = "supported: PCM 8/16/24/32-bit and float 32/64-bit"
# Streaming writers that cannot seek back leave a placeholder data size: arecord writes
# about 2 GiB (0x7fffff00..0x80000000), ffmpeg and sox 0xffffffff. Such a data chunk runs to
# the end of the file; a smaller size that the file falls short of means the file was cut.
_STREAMING_SIZE = 0x7FFFFF00
# The Speech Commands folder of long noise recordings: training mixes it in, and a folder
# of clips replayed on the device skips it (it holds no labelled clips).
BACKGROUND_NOISE_FOLDER = "_background_noise_"
# Rates a file may declare: any positive rate up to 384 kHz studio converters (sensor logs
# stored as WAV run at a few Hz to a few hundred). What a low rate can cost is bounded where
# it costs: resampling (a 32 KB file declaring 1 Hz, resampled to 16 kHz, became 3 GB).
MIN_WAV_RATE_HZ, MAX_WAV_RATE_HZ = 1, 384000
# The most samples resample() makes: 2**24 is 17 minutes at 16 kHz, 64 MiB as float32.
MAX_RESAMPLED_SAMPLES = 2**24
# The larger of up and down (the rates over their gcd) resample() accepts: its filter has
# 20 taps per step, so 2**16 keeps the tables near 10 MB each. Real pairs need far fewer
# (44.1 -> 16 kHz: 441; 47.952 -> 16 kHz: 2997); coprime rates such as 383999 Hz do not.
MAX_RATIO_STEPS = 2**16


@dataclass(frozen=True, eq=False)
class WavAudio:
    """A mono recording read from a WAV file.

    Attributes:
        samples: float32, shape (n,), channels mixed down by their mean, nominally in [-1, 1].
        sample_rate_hz: the rate of ``samples`` (the file's, or the one asked for).
        channels: channels in the file.
        encoding: the file's sample encoding: pcm8, pcm16, pcm24, pcm32, float32 or float64.
    """

    samples: np.ndarray
    sample_rate_hz: int
    channels: int
    encoding: str

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate_hz


@dataclass(frozen=True)
class _Format:
    tag: int
    channels: int
    rate: int
    bits: int


def read_wav(path: str | os.PathLike, *, rate_hz: int | None = None) -> WavAudio:
    """Reads a WAV file as mono float32, resampled to ``rate_hz`` when given and different.

    PCM is scaled so that 16-bit v becomes v / 32768 exactly (8-bit: (v - 128) / 128,
    24-bit: v / 2**23, 32-bit: v / 2**31); float files are taken as they are.

    Raises:
        BadInputError: not a WAV file, truncated, no samples, or an unsupported encoding.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BadInputError(f"cannot read WAV file {path}: {exc.strerror or exc}") from None
    fmt, pcm = _parse_chunks(data, path)
    encoding = _encoding(fmt, path)
    width = fmt.bits // 8
    frames = len(pcm) // (width * fmt.channels)  # whole frames only (a cut stream)
    if frames == 0:
        raise BadInputError(f"{path} has no samples (data chunk of {len(pcm)} bytes)")
    values = _decode(pcm[: frames * width * fmt.channels], encoding)
    if encoding.startswith("float") and not np.isfinite(values).all():  # before the mixdown
        raise BadInputError(f"{path} holds NaN or infinite samples; expected finite audio")
    if fmt.channels > 1:
        values = values.reshape(frames, fmt.channels).mean(axis=1, dtype=np.float32)
    rate = fmt.rate
    if rate_hz is not None and rate_hz != rate:
        values, rate = resample(values, from_hz=rate, to_hz=rate_hz), int(rate_hz)
    return WavAudio(samples=values, sample_rate_hz=rate, channels=fmt.channels, encoding=encoding)


def _parse_chunks(data: bytes, path) -> tuple[_Format, bytes]:
    """The format and the raw sample bytes of a RIFF/WAVE (or RF64) file."""
    if len(data) < 12 or data[:4] not in (b"RIFF", b"RF64") or data[8:12] != b"WAVE":
        raise BadInputError(f"{path} is not a WAV file: expected a RIFF/WAVE header")
    fmt, pcm, ds64_size, pos = None, None, None, 12
    while pos + 8 <= len(data) and (fmt is None or pcm is None):
        cid, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = pos + 8
        if cid == b"data":
            if size == 0xFFFFFFFF and ds64_size is not None:
                size = ds64_size  # RF64 keeps the real size in its ds64 chunk
            elif size >= _STREAMING_SIZE:
                size = len(data) - body
            if body + size > len(data):
                raise BadInputError(f"{path} is truncated: data chunk declares {size} bytes, "
                                    f"the file holds {len(data) - body}")
            pcm = data[body : body + size]
        elif cid == b"fmt ":
            if size < 16 or body + size > len(data):
                raise BadInputError(f"{path} is truncated: its fmt chunk is cut short")
            fmt = _read_fmt(data[body : body + size], path)
        elif cid == b"ds64" and size >= 16:
            if body + size > len(data):
                raise BadInputError(f"{path} is truncated: its ds64 chunk is cut short")
            ds64_size = struct.unpack_from("<Q", data, body + 8)[0]
        pos = body + size + (size & 1)  # chunks are padded to an even size
    if fmt is None:
        raise BadInputError(f"{path} has no fmt chunk; expected one before the samples")
    if pcm is None:
        raise BadInputError(f"{path} has no data chunk (the file may be truncated)")
    return fmt, pcm


def _read_fmt(body: bytes, path) -> _Format:
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
    if tag == EXTENSIBLE:
        if len(body) < 40 or body[26:40] != _GUID_TAIL:
            raise BadInputError(f"{path} uses an unknown WAVE_FORMAT_EXTENSIBLE subformat; "
                                f"{_SUPPORTED}")
        tag = struct.unpack_from("<H", body, 24)[0]
    if channels == 0 or rate == 0:
        raise BadInputError(f"{path} declares {channels} channels at {rate} Hz; "
                            "expected at least 1 channel and a positive rate")
    if not MIN_WAV_RATE_HZ <= rate <= MAX_WAV_RATE_HZ:
        raise BadInputError(f"{path} declares a sample rate of {rate} Hz; accepted: "
                            f"{MIN_WAV_RATE_HZ}..{MAX_WAV_RATE_HZ} Hz")
    return _Format(tag=tag, channels=channels, rate=rate, bits=bits)


def _encoding(fmt: _Format, path) -> str:
    if fmt.tag == PCM and fmt.bits in (8, 16, 24, 32):
        return f"pcm{fmt.bits}"
    if fmt.tag == FLOAT and fmt.bits in (32, 64):
        return f"float{fmt.bits}"
    if fmt.tag in (PCM, FLOAT):
        kind = "PCM" if fmt.tag == PCM else "float"
        raise BadInputError(f"{path} has {fmt.bits}-bit {kind} samples; {_SUPPORTED}")
    name = _TAG_NAMES.get(fmt.tag, "unknown")
    raise BadInputError(f"{path} uses format {fmt.tag} ({name}); {_SUPPORTED}")


def _decode(raw: bytes, encoding: str) -> np.ndarray:
    """Little-endian sample bytes -> float32 values."""
    if encoding == "pcm8":  # 8-bit WAV is unsigned, centred on 128
        return (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    if encoding == "pcm16":
        return np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    if encoding == "pcm24":
        # Put the 3 bytes in the top of an int32 and shift back: the sign comes along.
        wide = np.zeros((len(raw) // 3, 4), np.uint8)
        wide[:, 1:] = np.frombuffer(raw, np.uint8).reshape(-1, 3)
        return (wide.view("<i4").ravel() >> 8).astype(np.float32) / 2.0**23
    if encoding == "pcm32":
        return (np.frombuffer(raw, "<i4") / 2.0**31).astype(np.float32)
    with np.errstate(over="ignore", invalid="ignore"):  # inf and NaN are refused by the caller
        return np.frombuffer(raw, "<f4" if encoding == "float32" else "<f8").astype(np.float32)


def write_wav(
    path: str | os.PathLike, samples: np.ndarray, *, sample_rate_hz: int, bits: int = 16
) -> None:
    """Writes mono samples, shape (n,) in [-1, 1], atomically.

    ``bits`` 16 writes PCM16 (rounded, clipped), so int16 / 32768 values read back exactly;
    32 writes IEEE float32.
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1 or not np.isfinite(x).all():
        got = f"shape {x.shape}" if x.ndim != 1 else "NaN or infinite values"
        raise BadInputError(f"write_wav needs finite mono samples, shape (n,); got {got} "
                            f"for {path}")
    if int(sample_rate_hz) != sample_rate_hz or sample_rate_hz <= 0 or bits not in (16, 32):
        raise BadInputError(f"write_wav: rate {sample_rate_hz!r} Hz and bits {bits!r} for "
                            f"{path}; expected a positive integer rate and bits 16 or 32")
    if bits == 16:
        pcm = np.clip(np.round(x * 32768.0), -32768, 32767).astype("<i2").tobytes()
        fmt = struct.pack("<HHIIHH", PCM, 1, sample_rate_hz, 2 * sample_rate_hz, 2, 16)
        extra = b""
    else:  # non-PCM formats carry cbSize and a fact chunk with the sample count
        pcm = x.astype("<f4").tobytes()
        fmt = struct.pack("<HHIIHHH", FLOAT, 1, sample_rate_hz, 4 * sample_rate_hz, 4, 32, 0)
        extra = b"fact" + struct.pack("<II", 4, len(x))
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra
            + b"data" + struct.pack("<I", len(pcm)) + pcm)
    write_bytes(path, b"RIFF" + struct.pack("<I", len(body)) + body)


def resample(samples: np.ndarray, *, from_hz: int, to_hz: int) -> np.ndarray:
    """Polyphase windowed-sinc (Kaiser beta 5) resampling, as scipy.signal.resample_poly.

    up/down are the rates divided by their gcd; the low-pass filter has half-length
    10 * max(up, down) taps and cutoff 1 / max(up, down) of Nyquist, and the signal is
    zero-padded at its ends, so the result matches ``resample_poly(x, up, down)``.

    Returns:
        float32, length ceil(n * up / down).
    """
    if int(from_hz) != from_hz or int(to_hz) != to_hz or from_hz <= 0 or to_hz <= 0:
        raise BadInputError(f"resample needs positive integer rates; got {from_hz!r} -> {to_hz!r}")
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 1:
        raise BadInputError(f"resample needs a 1-D signal; got shape {x.shape}")
    g = math.gcd(int(from_hz), int(to_hz))
    up, down = int(to_hz) // g, int(from_hz) // g
    if up == down:
        return x.astype(np.float32)
    if max(up, down) > MAX_RATIO_STEPS:  # checked before the filter tables are made
        raise BadInputError(
            f"cannot resample {from_hz} Hz to {to_hz} Hz: their ratio {up}/{down} needs "
            f"{max(up, down)} filter steps, at most {MAX_RATIO_STEPS} are accepted; "
            "record at a common rate such as 16000, 44100 or 48000 Hz"
        )
    n_out = -(-len(x) * up // down)
    if n_out > MAX_RESAMPLED_SAMPLES:  # checked before anything is allocated
        raise BadInputError(
            f"cannot resample {len(x)} samples from {from_hz} Hz to {to_hz} Hz: that makes "
            f"{n_out} samples, at most {MAX_RESAMPLED_SAMPLES} are accepted; cut the "
            "recording into shorter files"
        )
    taps, kmax = _phase_taps(up, down)
    nk = taps.shape[1]
    padded = np.concatenate([np.zeros(kmax), x, np.zeros(kmax + 1)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, nk)
    out = np.empty(n_out, np.float64)
    block = max(1, (1 << 22) // nk)  # rows per matmul: bounds any copy numpy makes to ~32 MB
    for s in range(min(up, n_out)):
        # Outputs s, s + up, s + 2 up, ... share one filter phase; their inputs step by down.
        start, phase = divmod(s * down, up)
        rows = windows[start::down][: len(range(s, n_out, up))]
        dest = out[s::up]
        for b in range(0, len(rows), block):
            dest[b : b + block] = rows[b : b + block] @ taps[phase]
    return out.astype(np.float32)


def _phase_taps(up: int, down: int) -> tuple[np.ndarray, int]:
    """The filter split into ``up`` phases, each ordered to meet ascending input samples.

    Output m sits at m * down on the upsampled grid; with i0, r = divmod(m * down, up) it is
    sum_k h[half + r + k * up] * x[i0 - k] over the taps within the filter's support.
    """
    max_rate = max(up, down)
    half = 10 * max_rate
    cutoff = 1.0 / max_rate
    m = np.arange(2 * half + 1) - half
    h = cutoff * np.sinc(cutoff * m) * np.kaiser(2 * half + 1, 5.0)
    h *= up / h.sum()  # unit DC gain, times up for the zeros the upsampling inserts
    kmax = half // up + 1
    k = kmax - np.arange(2 * kmax + 1)  # window column c holds input i0 - kmax + c
    idx = half + np.arange(up)[:, None] + k[None, :] * up
    inside = (idx >= 0) & (idx <= 2 * half)
    return np.where(inside, h[np.clip(idx, 0, 2 * half)], 0.0), kmax
