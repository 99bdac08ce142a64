"""WAV headers and resampling ratios that would ask for unbounded memory: one line, refused.

Before the bounds, a 32 KB file whose header said 1 Hz was resampled to 16 kHz through a
320,001-tap filter into 3 GB, and a rate of 4294967291 Hz asked for 640 GiB.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from edgecnn.core.errors import BadInputError
from edgecnn.core.wav import MAX_RATIO_STEPS, MAX_WAV_RATE_HZ, MIN_WAV_RATE_HZ, read_wav, resample
from tests.memlimit import run_capped


def wav_bytes(rate: int, samples: int = 16000) -> bytes:
    """A mono PCM16 file of ``samples`` zeros whose header declares ``rate``."""
    fmt = struct.pack("<HHIIHH", 1, 1, rate, (2 * rate) & 0xFFFFFFFF, 2, 16)
    data = b"\0" * (2 * samples)
    body = (b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
            + b"data" + struct.pack("<I", len(data)) + data)
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize("rate", [384001, 4294967291])
def test_a_rate_outside_the_bounds_is_refused_in_one_line(tmp_path, rate):
    path = tmp_path / "odd.wav"
    path.write_bytes(wav_bytes(rate))
    with pytest.raises(BadInputError) as caught:
        read_wav(path, rate_hz=16000)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and f"{rate} Hz" in message
    assert f"{MIN_WAV_RATE_HZ}..{MAX_WAV_RATE_HZ} Hz" in message


def test_a_low_rate_sensor_recording_is_read_but_not_blown_up_by_resampling(tmp_path):
    path = tmp_path / "imu.wav"
    path.write_bytes(wav_bytes(50, samples=60_000))  # 20 minutes of a 50 Hz sensor
    assert read_wav(path).sample_rate_hz == 50
    with pytest.raises(BadInputError, match=r"makes 19200000 samples, at most 16777216"):
        read_wav(path, rate_hz=16000)


@pytest.mark.parametrize("rate", [1000, 8000, 11025, 44100, 47952, MAX_WAV_RATE_HZ])
def test_real_rates_are_read(tmp_path, rate):
    path = tmp_path / "ok.wav"
    path.write_bytes(wav_bytes(rate, samples=rate // 10))
    assert read_wav(path).sample_rate_hz == rate
    assert len(read_wav(path, rate_hz=16000).samples) == 1600


def test_a_resampling_ratio_too_fine_is_refused_in_one_line():
    # 383,999 and 16,000 share no factor: 383,999 steps, a filter of 7.7 million taps
    with pytest.raises(BadInputError, match=f"383999 Hz to 16000 Hz.*at most {MAX_RATIO_STEPS}"):
        resample(np.zeros(10), from_hz=383999, to_hz=16000)
    assert resample(np.zeros(4795), from_hz=47952, to_hz=16000).shape == (1600,)


def test_the_1_hz_header_stays_within_256_mib(tmp_path):
    """Before: a 32 KB file took 3 GB (here a MemoryError under the cap)."""
    path = tmp_path / "one-hz.wav"
    path.write_bytes(wav_bytes(1))
    done = run_capped(
        "from edgecnn.core.errors import BadInputError\nfrom edgecnn.core.wav import read_wav",
        f"""
        try:
            read_wav({str(path)!r}, rate_hz=16000)
        except BadInputError as exc:
            print("refused:", exc)
        """,
    )
    assert done.returncode == 0 and "refused:" in done.stdout, done.stderr[-2000:]
