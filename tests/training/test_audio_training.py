"""Audio data: WAV class folders, the keyword classes, audio augmentation, training DS-CNN."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgecnn.core.errors import BadInputError, DataError
from edgecnn.core.preprocess import DataKind
from edgecnn.training.data.audio import SILENCE, UNKNOWN
from edgecnn.training.data.audiospec import parse_front_end
from edgecnn.training.data.sources import DataOptions, load_data
from edgecnn.training.data.split import SplitMethod, split_dataset
from tests.audio_clips import RATE, SMALL, TONES, make_clips


def options(**extra) -> DataOptions:
    return DataOptions(clip_ms=250, audio_features=SMALL, **extra)


def test_folder_of_clips_becomes_audio_data(tmp_path):
    ds = load_data(str(make_clips(tmp_path)), options())
    assert ds.kind == DataKind.AUDIO
    assert ds.labels == ("high", "low", "mid")  # the background folder is not a class
    assert ds.x.shape == (18, 2000) and ds.x.dtype == np.float32
    assert ds.info["clips_padded"] > 0 and ds.info["clips_cut"] > 0
    assert "zeros appended" in ds.info["clip_rule"]
    assert ds.background is not None and len(ds.background) == 2 * RATE
    assert np.array_equal(ds.x, np.round(ds.x * 32768) / 32768)  # 16-bit grid: lossless WAV


def test_speakers_never_share_splits(tmp_path):
    ds = load_data(str(make_clips(tmp_path, speakers=10)), options())
    split = split_dataset(ds, seed=1)
    assert split.method == SplitMethod.BY_SPEAKER
    sets = [set(ds.groups[idx].tolist()) for idx in (split.train, split.val, split.test)]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])


def test_target_words_add_unknown_and_silence(tmp_path):
    ds = load_data(str(make_clips(tmp_path)), options(audio_classes=("high", "low")))
    assert ds.labels == ("high", "low", UNKNOWN, SILENCE)
    counts = np.bincount(ds.y)
    assert counts[2] == 6 and counts[3] > 0  # unknown: as many clips as one target word
    silent = ds.x[ds.y == 3]
    assert np.abs(silent).max() < 0.5  # slices of the background at a random gain


@pytest.mark.parametrize(
    "classes, message",
    [(("high", "nope"), "no folder for target word"), (None, "at least 2")],
)
def test_bad_class_choices_are_refused(tmp_path, classes, message):
    root = make_clips(tmp_path, tones={"high": 1500.0} if classes is None else TONES)
    with pytest.raises(DataError, match=message):
        load_data(str(root), options(audio_classes=classes))


def test_broken_clip_is_named(tmp_path):
    root = make_clips(tmp_path)
    (root / "low" / "s9_nohash_0.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt ")
    with pytest.raises(DataError, match="s9_nohash_0.wav"):
        load_data(str(root), options())


def test_non_wav_file_in_a_class_folder_is_refused(tmp_path):
    root = make_clips(tmp_path)
    (root / "low" / "notes.txt").write_text("x")
    with pytest.raises(DataError, match=r"notes.txt is not a \.wav"):
        load_data(str(root), options())


def test_front_end_spec():
    front = parse_front_end(SMALL, clip_ms=250)
    assert front.feature_shape == (14, 8, 1) and front.fft_size == 256
    assert parse_front_end(None).feature_shape == (49, 10, 1)  # MLPerf Tiny KWS default
    assert parse_front_end("log_mel,mel_bands=32").feature_shape == (49, 32, 1)
    for spec, message in [("fft", "must start with"), ("mfcc,bands=3", "unknown setting"),
                          ("mfcc,rate=x", "must be an integer"),
                          ("mfcc,hop_ms=0", "under one sample"),
                          ("mfcc,window_ms=-5", "under one sample")]:  # fmt: skip
        with pytest.raises(BadInputError, match=message):
            parse_front_end(spec)


def test_audio_augmentation(tmp_path):
    from edgecnn.training.data.audioaugment import AudioAugment, _shift
    from edgecnn.training.data.augment import parse_augment
    from edgecnn.training.prepare import fit_preprocessing

    ds = load_data(str(make_clips(tmp_path)), options())
    pre = fit_preprocessing(ds, np.arange(len(ds.x)))
    spec = parse_augment("timeshift,gain,bgnoise=10,timemask,freqmask", DataKind.AUDIO)
    rng = np.random.default_rng(0)
    out = AudioAugment(pre, spec, ds.background)(ds.x[:4], rng)
    assert out.shape == (4, 14, 8, 1) and np.isfinite(out).all()
    assert not np.allclose(out, pre.apply(ds.x[:4]))
    ramp = np.arange(1, 11, dtype=np.float32)[np.newaxis]
    shifted = _shift(ramp, 0.5, np.random.default_rng(3))
    assert (shifted == 0).any() and set(shifted[shifted > 0]) <= set(ramp[0])  # no wrap-around
    with pytest.raises(BadInputError, match="does not apply to audio"):
        parse_augment("hflip", DataKind.AUDIO)
    with pytest.raises(BadInputError, match="out of range"):
        parse_augment("bgnoise=90", DataKind.AUDIO)


@pytest.mark.parametrize(
    "extra, breaks, message",
    [
        ([], "empty", "has no samples"),
        ([], "text", "is not a WAV file"),
        (["--audio-features", "mfcc,rate=2000"], None, "sample rate"),
        (["--audio-classes", "high,nope"], None, "no folder for target word"),
    ],
)
def test_train_refuses_bad_audio_in_one_line(tmp_path, extra, breaks, message):
    from click.testing import CliRunner

    from edgecnn.cli import cli

    root = make_clips(tmp_path / "clips", speakers=3)
    if breaks == "empty":
        write_header_only(root / "low" / "s7_nohash_0.wav")
    elif breaks == "text":
        (root / "low" / "s8_nohash_0.wav").write_text("not audio")
    args = ["train", "--data", str(root), "--model", "dscnn", "--clip-ms", "250", "--out",
            str(tmp_path / "run"), *extra]  # fmt: skip
    if "--audio-features" not in extra:
        args += ["--audio-features", SMALL]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], lines
    assert not (tmp_path / "run").exists()


def write_header_only(path: Path) -> None:
    """A valid 16-bit mono WAV header with no samples."""
    import struct

    fmt = struct.pack("<HHIIHH", 1, 1, RATE, RATE * 2, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", 0)
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def test_silence_follows_the_speakers_into_every_split(tmp_path):
    ds = load_data(str(make_clips(tmp_path, speakers=10)), options(audio_classes=("high",)))
    split = split_dataset(ds, seed=3)
    silence = ds.labels.index(SILENCE)
    for part in (split.train, split.val, split.test):
        assert (ds.y[part] == silence).any()
    assert len(np.unique(ds.groups)) == 10  # the speakers only
