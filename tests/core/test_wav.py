"""edgecnn.core.wav: WAV files written byte by byte here, and resampling against scipy."""

from __future__ import annotations

import math
import struct
import wave

import numpy as np
import pytest

from edgecnn.core.errors import BadInputError
from edgecnn.core.wav import read_wav, resample, write_wav

EXT_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"


def chunk(cid: bytes, body: bytes, size: int | None = None) -> bytes:
    """One RIFF chunk, padded to an even length; ``size`` overrides the declared size."""
    declared = len(body) if size is None else size
    return cid + struct.pack("<I", declared) + body + b"\0" * (len(body) & 1)


def fmt(tag=1, channels=1, rate=16000, bits=16, ext_tag=None) -> bytes:
    align = channels * bits // 8
    body = struct.pack("<HHIIHH", tag, channels, rate, rate * align, align, bits)
    if ext_tag is not None:  # WAVE_FORMAT_EXTENSIBLE: cbSize 22, valid bits, mask, GUID
        body += struct.pack("<HHI", 22, bits, 3) + struct.pack("<H", ext_tag) + EXT_GUID_TAIL
    return chunk(b"fmt ", body)


def riff(*chunks: bytes, size: int | None = None, magic=b"RIFF") -> bytes:
    body = b"WAVE" + b"".join(chunks)
    return magic + struct.pack("<I", len(body) if size is None else size) + body


def put(tmp_path, data: bytes, name="a.wav"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("encoding", "tag", "bits", "raw", "expected"),
    [
        ("pcm8", 1, 8, bytes([128, 0, 255, 129, 127]), [0, -1, 127 / 128, 1 / 128, -1 / 128]),
        ("pcm16", 1, 16, struct.pack("<5h", 0, -32768, 32767, 1, -1),
         [0, -1, 32767 / 32768, 1 / 32768, -1 / 32768]),
        ("pcm24", 1, 24,
         b"".join(v.to_bytes(3, "little", signed=True) for v in (0, -(2**23), 2**23 - 1, 1, -1)),
         [0, -1, (2**23 - 1) / 2**23, 2**-23, -(2**-23)]),
        ("pcm32", 1, 32, struct.pack("<5i", 0, -(2**31), 2**31 - 1, 2**16, -(2**16)),
         np.float32([0, -1, 1, 2**-15, -(2**-15)])),
        ("float32", 3, 32, struct.pack("<5f", 0, -1, 0.5, 0.25, -0.125),
         [0, -1, 0.5, 0.25, -0.125]),
        ("float64", 3, 64, struct.pack("<5d", 0, -1, 0.5, 1e-3, -0.75),
         np.float32([0, -1, 0.5, 1e-3, -0.75])),
    ],
)
def test_every_encoding_is_read_and_scaled(tmp_path, encoding, tag, bits, raw, expected):
    path = put(tmp_path, riff(fmt(tag=tag, bits=bits, rate=8000), chunk(b"data", raw)))
    audio = read_wav(path)
    assert audio.encoding == encoding
    assert (audio.sample_rate_hz, audio.channels) == (8000, 1)
    assert audio.samples.dtype == np.float32 and audio.samples.shape == (5,)
    np.testing.assert_array_equal(audio.samples, np.float32(expected))


def test_extensible_pcm16_stereo_is_mixed_down_by_mean(tmp_path):
    frames = [(1000, 3000), (-32768, 32767), (5, -5)]
    raw = b"".join(struct.pack("<hh", a, b) for a, b in frames)
    path = put(tmp_path, riff(fmt(0xFFFE, channels=2, ext_tag=1), chunk(b"data", raw)))
    audio = read_wav(path)
    assert (audio.encoding, audio.channels) == ("pcm16", 2)
    np.testing.assert_allclose(audio.samples, [(a + b) / 65536 for a, b in frames], atol=1e-7)


def test_extensible_float_and_three_channels(tmp_path):
    raw = struct.pack("<6f", 0.3, 0.6, 0.9, -0.3, -0.6, 0.0)
    path = put(tmp_path, riff(fmt(0xFFFE, channels=3, bits=32, ext_tag=3), chunk(b"data", raw)))
    audio = read_wav(path)
    assert (audio.encoding, audio.channels) == ("float32", 3)
    np.testing.assert_allclose(audio.samples, [0.6, -0.3], atol=1e-6)


def test_odd_chunks_are_padded_and_unknown_chunks_skipped(tmp_path):
    data = chunk(b"data", bytes([128, 160, 96]))  # odd size: one pad byte follows
    path = put(tmp_path, riff(chunk(b"LIST", b"INFOx"), fmt(bits=8), chunk(b"junk", b"abc"),
                              data, chunk(b"LIST", b"INFOsoftware")))
    audio = read_wav(path)
    np.testing.assert_array_equal(audio.samples, np.float32([0, 0.25, -0.25]))


def test_agrees_with_the_wave_module(tmp_path):
    rng = np.random.default_rng(1)
    frames = rng.integers(-32768, 32768, size=(50, 2), dtype=np.int16)
    with wave.open(str(tmp_path / "w.wav"), "wb") as out:
        out.setnchannels(2), out.setsampwidth(2), out.setframerate(22050)
        out.writeframes(frames.astype("<i2").tobytes())
    audio = read_wav(tmp_path / "w.wav")
    assert audio.sample_rate_hz == 22050
    np.testing.assert_allclose(audio.samples, frames.mean(axis=1) / 32768, atol=1e-7)


@pytest.mark.parametrize("size", [0xFFFFFFFF, 0x80000000, 0x7FFFFF00])
def test_streaming_placeholder_size_reads_whole_frames(tmp_path, size):
    raw = struct.pack("<4h", 100, 200, 300, 400) + b"\x01"  # a cut frame at the end
    path = put(tmp_path, riff(fmt(channels=2), chunk(b"data", raw, size=size)[:8] + raw,
                              size=0xFFFFFFFF))
    audio = read_wav(path)
    np.testing.assert_allclose(audio.samples, [150 / 32768, 350 / 32768])


def test_rf64_uses_the_ds64_data_size(tmp_path):
    raw = struct.pack("<3h", 1, 2, 3)
    ds64 = chunk(b"ds64", struct.pack("<QQQI", 0, len(raw), 3, 0))
    data = chunk(b"data", raw, size=0xFFFFFFFF)
    path = put(tmp_path, riff(ds64, fmt(), data, chunk(b"LIST", b"INFO"), magic=b"RF64"))
    np.testing.assert_array_equal(read_wav(path).samples, np.float32([1, 2, 3]) / 32768)


PCM = fmt()
RF64 = riff(chunk(b"ds64", struct.pack("<QQQI", 0, 2, 1, 0)), PCM,
            chunk(b"data", b"\0\0", size=0xFFFFFFFF), magic=b"RF64")
BAD_FILES = {
    "text": (b"hello, not audio at all", "not a WAV file"),
    "avi": (b"RIFF\x04\x00\x00\x00AVI ", "not a WAV file"),
    "empty": (b"", "not a WAV file"),
    "cut data": (riff(PCM, chunk(b"data", b"\0" * 100))[:-40], "truncated: data chunk declares"),
    "cut fmt": (riff(PCM)[:-6], "fmt chunk is cut short"),
    "cut ds64 size": (RF64[:30], "ds64 chunk is cut short"),  # inside the 8-byte data size
    "cut ds64 tail": (RF64[:40], "ds64 chunk is cut short"),
    "no fmt": (riff(chunk(b"data", b"\0\0")), "no fmt chunk"),
    "no data": (riff(PCM, chunk(b"LIST", b"INFO")), "no data chunk"),
    "zero samples": (riff(PCM, chunk(b"data", b"")), "no samples"),
    "half a frame": (riff(fmt(channels=2), chunk(b"data", b"\0\0")), "no samples"),
    "adpcm": (riff(fmt(tag=2, bits=4), chunk(b"data", b"\0" * 8)), r"format 2 \(MS ADPCM\)"),
    "mu-law": (riff(fmt(tag=7, bits=8), chunk(b"data", b"\0" * 8)), r"format 7 \(mu-law\)"),
    "a-law ext": (riff(fmt(0xFFFE, bits=8, ext_tag=6), chunk(b"data", b"\0")), r"format 6 \(A-law"),
    "odd guid": (riff(fmt(0xFFFE, ext_tag=1)[:-1] + b"\x72", chunk(b"data", b"\0\0")),
                 "unknown WAVE_FORMAT_EXTENSIBLE"),
    "12-bit": (riff(fmt(bits=12), chunk(b"data", b"\0" * 4)), "12-bit PCM"),
    "float16": (riff(fmt(tag=3, bits=16), chunk(b"data", b"\0" * 4)), "16-bit float"),
    "no channels": (riff(fmt(channels=0), chunk(b"data", b"\0" * 4)), "0 channels"),
    "nan": (riff(fmt(tag=3, bits=32), chunk(b"data", struct.pack("<f", math.nan))), "NaN"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_raise_one_line_naming_the_file(tmp_path, case):
    data, message = BAD_FILES[case]
    path = put(tmp_path, data, name="bad.wav")
    with pytest.raises(BadInputError, match=message) as info:
        read_wav(path)
    text = str(info.value)
    assert str(path) in text and "\n" not in text
    if "format" in message:
        assert "supported: PCM 8/16/24/32-bit and float 32/64-bit" in text


def test_missing_file(tmp_path):
    with pytest.raises(BadInputError, match="cannot read WAV file"):
        read_wav(tmp_path / "nope.wav")


def test_write_then_read_is_exact_for_int16_values(tmp_path):
    values = np.arange(-32768, 32768, 7, dtype=np.int64) / 32768
    write_wav(tmp_path / "x.wav", values, sample_rate_hz=16000)
    audio = read_wav(tmp_path / "x.wav")
    assert (audio.encoding, audio.sample_rate_hz, audio.channels) == ("pcm16", 16000, 1)
    np.testing.assert_array_equal(audio.samples, values.astype(np.float32))
    with wave.open(str(tmp_path / "x.wav")) as check:  # a standard reader agrees
        assert (check.getnframes(), check.getframerate()) == (len(values), 16000)


def test_write_clips_rounds_and_replaces_atomically(tmp_path):
    path = tmp_path / "x.wav"
    path.write_bytes(b"old")
    write_wav(path, np.array([[2.0], [-3.0], [0.4 / 32768]]), sample_rate_hz=8000)
    np.testing.assert_array_equal(read_wav(path).samples, np.float32([32767 / 32768, -1, 0]))
    assert [p.name for p in tmp_path.iterdir()] == ["x.wav"]


def test_write_float32(tmp_path):
    values = np.float32([0.1, -0.7, 1.5])
    write_wav(tmp_path / "f.wav", values, sample_rate_hz=44100, bits=32)
    audio = read_wav(tmp_path / "f.wav")
    assert audio.encoding == "float32"
    np.testing.assert_array_equal(audio.samples, values)


@pytest.mark.parametrize(
    ("samples", "kwargs"),
    [(np.zeros((3, 2)), {}), ([0.0, math.inf], {}), ([0.0], {"bits": 8}),
     ([0.0], {"sample_rate_hz": 0})],
)
def test_write_refuses_bad_input(tmp_path, samples, kwargs):
    with pytest.raises(BadInputError, match="write_wav"):
        write_wav(tmp_path / "x.wav", samples, **{"sample_rate_hz": 16000, **kwargs})
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("from_hz", [22050, 44100, 8000, 48000])
def test_resample_matches_scipy_resample_poly(from_hz):
    signal = pytest.importorskip("scipy.signal")
    rng = np.random.default_rng(from_hz)
    n = from_hz // 10 + 3
    g = math.gcd(from_hz, 16000)
    tone = np.sin(2 * np.pi * 440 * np.arange(n) / from_hz)
    for x in (rng.uniform(-1, 1, n), tone, rng.uniform(-1, 1, 5)):
        ours = resample(x, from_hz=from_hz, to_hz=16000)
        ref = signal.resample_poly(x, 16000 // g, from_hz // g)
        assert ours.dtype == np.float32 and ours.shape == ref.shape
        assert np.abs(ours - ref).max() < 1e-5  # edges included


@pytest.mark.parametrize(("n", "from_hz", "to_hz"), [(1, 44100, 16000), (441, 44100, 16000),
                                                     (442, 44100, 16000), (10, 8000, 16000),
                                                     (7, 48000, 16000), (0, 48000, 16000)])
def test_resample_length_is_ceil(n, from_hz, to_hz):
    g = math.gcd(from_hz, to_hz)
    expected = math.ceil(n * (to_hz // g) / (from_hz // g))
    assert resample(np.ones(n), from_hz=from_hz, to_hz=to_hz).shape == (expected,)


def test_resample_same_rate_and_bad_rates():
    x = np.float32([0.1, 0.2])
    np.testing.assert_array_equal(resample(x, from_hz=16000, to_hz=16000), x)
    with pytest.raises(BadInputError, match="positive integer rates"):
        resample(x, from_hz=0, to_hz=16000)
    with pytest.raises(BadInputError, match="1-D"):
        resample(np.zeros((2, 2)), from_hz=8000, to_hz=16000)


def test_read_wav_resamples_on_request(tmp_path):
    values = np.round(np.sin(np.arange(4410) * 0.05) * 20000) / 32768
    write_wav(tmp_path / "s.wav", values, sample_rate_hz=44100)
    audio = read_wav(tmp_path / "s.wav", rate_hz=16000)
    assert (audio.sample_rate_hz, audio.encoding) == (16000, "pcm16")
    assert audio.samples.shape == (1600,) and audio.duration_s == pytest.approx(0.1)
    np.testing.assert_allclose(audio.samples, resample(values, from_hz=44100, to_hz=16000),
                               atol=1e-6)
    assert read_wav(tmp_path / "s.wav", rate_hz=44100).samples.shape == (4410,)
