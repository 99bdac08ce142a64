"""Front-end sizes a flag or a manifest can set are bounded, in one line, before any table.

Before: fft=1073741824 and --clip-ms 99999999999 were accepted and failed later in a
traceback after up to a minute; mel_bands=100000 was accepted and its firmware export wrote
an 18 MB C++ file.
"""

from __future__ import annotations

import pytest

from edgecnn.core.audiofeatures import AudioFrontEnd
from edgecnn.core.audiosettings import (
    MAX_CLIP_S,
    MAX_FFT_SIZE,
    MAX_MEL_BANDS,
    MAX_STFT_POINTS,
    FrontEndSettings,
)
from edgecnn.core.errors import BadInputError
from edgecnn.training.data.audiospec import parse_front_end
from tests.memlimit import run_capped


def refused(**changes) -> str:
    with pytest.raises(BadInputError) as caught:
        FrontEndSettings(**changes)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_fft_size_over_the_bound():
    assert f"fft_size 1073741824 is over the largest accepted {MAX_FFT_SIZE}" in refused(
        fft_size=2**30)
    assert FrontEndSettings(fft_size=MAX_FFT_SIZE).fft_size == MAX_FFT_SIZE


def test_mel_bands_over_the_bound():
    message = refused(mel_bands=100000, feature="log_mel", upper_hz=8000)
    assert f"mel_bands 100000 is over the largest accepted {MAX_MEL_BANDS}" in message
    assert FrontEndSettings(mel_bands=MAX_MEL_BANDS).mel_bands == MAX_MEL_BANDS


def test_window_over_the_bound_is_named_as_the_window():
    with pytest.raises(BadInputError, match=f"frame_samples 159999984.*largest accepted "
                                            f"{MAX_FFT_SIZE}"):
        parse_front_end("mfcc,window_ms=9999999")


def test_clip_over_the_bound():
    with pytest.raises(BadInputError, match=f"clip_samples 1599999999984 .*largest accepted "
                                            f"{MAX_CLIP_S} s"):
        parse_front_end("mfcc", clip_ms=99999999999)
    assert parse_front_end("mfcc", clip_ms=MAX_CLIP_S * 1000).clip_samples == MAX_CLIP_S * 16000


def test_frames_times_fft_over_the_bound():
    # 5 minutes at 48 kHz with a hop of one sample: 14.4 million frames of 512 points
    message = refused(sample_rate_hz=48000, clip_samples=MAX_CLIP_S * 48000, hop_samples=1)
    assert f"at most {MAX_STFT_POINTS:,}" in message and "STFT" in message


def test_the_project_s_own_settings_pass():
    for spec in ("mfcc", "mfcc,rate=8000,window_ms=32,hop_ms=16,mel_bands=16,coefficients=8",
                 "log_mel,mel_bands=64,fft=2048", "mfcc,rate=48000,window_ms=40,hop_ms=10"):
        for clip_ms in (250, 1000, 10000):
            assert parse_front_end(spec, clip_ms=clip_ms).frames >= 1


def test_the_largest_accepted_front_end_computes_one_clip_within_256_mib():
    """Settings at the bounds still compute a clip within the test's memory budget."""
    big = dict(sample_rate_hz=48000, clip_samples=20 * 48000, frame_samples=MAX_FFT_SIZE,
               hop_samples=MAX_FFT_SIZE * 20 * 48000 // MAX_STFT_POINTS + 1,
               fft_size=MAX_FFT_SIZE, mel_bands=MAX_MEL_BANDS, upper_hz=24000)
    AudioFrontEnd(**big)  # accepted here, before the child spends its budget on it
    done = run_capped(
        "import numpy as np\nfrom edgecnn.core.audiofeatures import AudioFrontEnd",
        f"""
        fe = AudioFrontEnd(**{big!r})
        out = fe.compute(np.zeros(fe.clip_samples, np.float32))
        print(out.shape)
        """,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_rate_of_zero_is_named_before_the_sizes_that_divide_by_it():
    assert "sample rate 0 Hz is outside 4000..48000 Hz" in refused(sample_rate_hz=0)
