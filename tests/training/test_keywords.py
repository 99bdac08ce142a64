"""The espeak-ng keyword set: layout, clips, determinism, speakers, cache, bad input, CLI.

Tests that speak skip when espeak-ng is missing, unless EDGECNN_REQUIRE_ESPEAK=1 (then fail).
"""

from __future__ import annotations

import json
import os
import shutil

import click
import numpy as np
import pytest
from click.testing import CliRunner

from edgecnn.cli import cli
from edgecnn.cli.options import word_list
from edgecnn.core.errors import BadInputError, MissingDependencyError
from edgecnn.core.wav import read_wav
from edgecnn.training.data import keywords as kw
from edgecnn.training.data.espeak import MISSING, espeak_version
from edgecnn.training.data.noise import NOISE_FILES as NOISE_KINDS

TINY = {"words": ("yes", "no"), "unknown_words": ("cat",), "speakers": 3}
NOISE_FILES = sorted(NOISE_KINDS.values())


@pytest.fixture(scope="module")
def espeak():
    if shutil.which("espeak-ng") is None:
        reason = "espeak-ng is not installed (sudo apt-get install espeak-ng)"
        if os.environ.get("EDGECNN_REQUIRE_ESPEAK") == "1":
            pytest.fail(f"EDGECNN_REQUIRE_ESPEAK=1 but {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def sets(espeak, tmp_path_factory):
    """The tiny set with noise (twice, to compare bytes; once with one worker) and clean."""
    root = tmp_path_factory.mktemp("kw")
    made = {"noisy": kw.generate_keywords(root / "noisy", **TINY)}
    kw.generate_keywords(root / "again", workers=1, **TINY)
    made["clean"] = kw.generate_keywords(root / "clean", noise=False, **TINY)
    return root


def files_of(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file()}


def test_layout_is_speech_commands(sets):
    root = sets / "noisy"
    names = sorted(files_of(root))
    clips = [n for n in names if "/spk" in n]
    assert clips == sorted(f"{w}/spk{i:03d}_nohash_0.wav" for w in ("yes", "no", "cat")
                           for i in range(3))
    assert [n for n in names if n.startswith("_background_noise_/")] == [
        f"_background_noise_/{n}" for n in NOISE_FILES
    ]
    assert {"README.txt", "keywords.json"} <= set(names)
    assert not [p for p in sets.iterdir() if p.name.startswith(".")]  # no temp folder left
    record = json.loads((root / "keywords.json").read_text())
    assert record["words"] == ["yes", "no"] and record["unknown_words"] == ["cat"]
    assert record["espeak_ng"] == espeak_version() and record["seed"] == 0
    assert "yes no" in (root / "README.txt").read_text()


@pytest.mark.parametrize("which", ["noisy", "clean"])
def test_clips_are_16bit_mono_and_exactly_clip_long(sets, which):
    for path in (sets / which).glob("*/spk*.wav"):
        audio = read_wav(path)
        assert (audio.sample_rate_hz, audio.channels, audio.encoding) == (16000, 1, "pcm16")
        assert audio.samples.shape == (16000,)
        peak = np.max(np.abs(audio.samples))
        assert 0.2 < peak <= 0.99, path
    for name in NOISE_FILES:
        noise = read_wav(sets / which / "_background_noise_" / name)
        assert noise.samples.shape == (160000,) and np.std(noise.samples) > 0.05


def test_same_options_give_the_same_bytes(sets):
    assert files_of(sets / "noisy") == files_of(sets / "again")


def test_noise_is_mixed_only_when_asked(sets):
    clean = read_wav(sets / "clean" / "yes" / "spk000_nohash_0.wav").samples
    noisy = read_wav(sets / "noisy" / "yes" / "spk000_nohash_0.wav").samples
    silent = clean == 0  # around the word: exact zeros in the clean clip
    assert silent.sum() > 2000
    assert np.count_nonzero(noisy[silent]) > 0.9 * silent.sum()
    speech = ~silent
    snr = 10 * np.log10(np.mean(clean[speech] ** 2) / np.mean((noisy - clean)[speech] ** 2))
    assert 3 < snr < 35  # drawn from 5..30 dB (a clipped peak can move it a little)


def test_each_speaker_says_every_word_once(sets):
    record = json.loads((sets / "noisy" / "keywords.json").read_text())
    speakers = record["speaker_list"]
    assert [s["id"] for s in speakers] == ["spk000", "spk001", "spk002"]
    assert len({(s["voice"], s["variant"]) for s in speakers}) == 3
    for s in speakers:
        assert s["voice"].startswith("en") and 120 <= s["speed_wpm"] <= 200
        assert 20 <= s["pitch"] <= 80
    for word in ("yes", "no", "cat"):
        owners = sorted(p.name.split("_nohash_")[0] for p in (sets / "noisy" / word).iterdir())
        assert owners == ["spk000", "spk001", "spk002"]


def test_ensure_keywords_generates_once_into_the_cache(espeak, tmp_path, monkeypatch):
    leftover = tmp_path / ".keywords-0123456789ab.tmp-x"
    (leftover / "yes").mkdir(parents=True)  # an interrupted run's folder: ignored
    first = kw.ensure_keywords(cache_dir=tmp_path, **TINY)
    assert first.name.startswith("keywords-") and (first / "keywords.json").is_file()
    monkeypatch.setattr(kw, "generate_keywords", lambda *a, **k: pytest.fail("regenerated"))
    assert kw.ensure_keywords(cache_dir=tmp_path, **TINY) == first
    monkeypatch.setenv("EDGECNN_CACHE", str(tmp_path))
    assert kw.ensure_keywords(**TINY) == first
    assert sorted(p.name for p in tmp_path.iterdir()) == [leftover.name, first.name]


def test_an_interrupted_run_leaves_no_set_behind(espeak, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(kw, "make_clip", broken)
    with pytest.raises(KeyboardInterrupt):
        kw.ensure_keywords(cache_dir=tmp_path, **TINY)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"words": ()}, "no target words"),
        ({"words": ("yes", "")}, "'' is not a word"),
        ({"words": ("Yes!",)}, "'Yes!' is not a word"),
        ({"words": "yes"}, "list of words"),
        ({"words": ("yes", "no", "yes")}, "more than once: yes"),
        ({"words": ("yes",), "unknown_words": ("yes",)}, "more than once: yes"),
        ({"speakers": 2}, "at least 3"),
        ({"sample_rate_hz": 7999}, "outside 8000..48000"),
        ({"sample_rate_hz": 48001}, "outside 8000..48000"),
        ({"clip_ms": 99}, "outside 100..10000 ms"),
        ({"clip_ms": 10001}, "outside 100..10000 ms"),  # longer than the noise recordings
        ({"workers": 0}, "workers"),
    ],
)
def test_bad_input_is_one_line(tmp_path, options, message):
    with pytest.raises(BadInputError, match=message) as caught:
        kw.generate_keywords(tmp_path / "out", **options)
    assert "\n" not in str(caught.value)


def test_a_folder_that_is_not_empty_is_refused(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("keep me")
    with pytest.raises(BadInputError, match="not an empty folder"):
        kw.generate_keywords(tmp_path / "out", **TINY)


def test_missing_espeak_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MissingDependencyError) as caught:
        kw.generate_keywords(tmp_path / "out", **TINY)
    assert str(caught.value) == MISSING
    with pytest.raises(MissingDependencyError):
        kw.ensure_keywords(cache_dir=tmp_path, **TINY)
    result = CliRunner().invoke(cli, ["data", "keywords", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "sudo apt-get install espeak-ng" in result.output


def test_cli_writes_a_set_and_a_summary(espeak, tmp_path):
    out = tmp_path / "kw"
    args = ["data", "keywords", "--out", str(out), "--words", "yes,no", "--unknown-words", "",
            "--speakers", "3", "--no-noise", "--rate", "8000", "--clip-ms", "500"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("wrote 6 clips (2 words + 0 unknown, 3 speakers, 8000 Hz")
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["_background_noise_", "no",
                                                                   "yes"]
    assert read_wav(out / "no" / "spk002_nohash_0.wav").samples.shape == (4000,)
    result = CliRunner().invoke(cli, [*args[:3], str(tmp_path / "j"), *args[4:], "--json"])
    assert json.loads(result.output)["clips"] == 6


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--speakers", "2"], "speakers must be at least 3 (train, validation and test), got 2"),
        (["--words", "Yes,no"], "words: 'Yes' is not a word; use lowercase a-z (and ' or -)"),
        (["--clip-ms", "12000"], "clip length 12000 ms is outside 100..10000 ms"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(tmp_path, args, line):
    result = CliRunner().invoke(cli, ["data", "keywords", "--out", str(tmp_path / "o"), *args])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"edgecnn: error: {line}"]
    assert not (tmp_path / "o").exists()


def test_cli_refuses_repeated_or_empty_words(tmp_path):
    for words in ("yes,no,yes", "yes,,no"):
        result = CliRunner().invoke(
            cli, ["data", "keywords", "--out", str(tmp_path / "o"), "--words", words]
        )
        assert result.exit_code == 2 and "distinct comma-separated words" in result.output


def test_word_list_keeps_case_and_refuses_repeats():
    assert word_list(None, None, " Yes,no ,Cat") == ("Yes", "no", "Cat")
    assert word_list(None, None, None) is None
    for bad in ("", "a,,b", "a,b,a"):
        with pytest.raises(click.BadParameter, match="distinct comma-separated words"):
            word_list(None, None, bad)


def test_the_longest_clip_takes_a_whole_noise_recording(espeak, tmp_path):
    info = kw.generate_keywords(tmp_path / "long", words=("go",), unknown_words=(), speakers=3,
                                sample_rate_hz=8000, clip_ms=kw.MAX_CLIP_MS)
    assert info.clips == 3
    assert read_wav(tmp_path / "long" / "go" / "spk000_nohash_0.wav").samples.shape == (80000,)


def test_a_cached_set_is_used_without_espeak(espeak, tmp_path, monkeypatch):
    made = kw.ensure_keywords(cache_dir=tmp_path / "cache", **TINY)
    (tmp_path / "cache" / "keywords-0000notaset").mkdir()  # no keywords.json: skipped
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng on it
    with pytest.raises(MissingDependencyError):
        espeak_version()
    assert kw.ensure_keywords(cache_dir=tmp_path / "cache", **TINY) == made
    for other in ({"seed": 1}, {"speakers": 4}, {"noise": False}, {"unknown_words": ()}):
        with pytest.raises(MissingDependencyError, match="apt-get install espeak-ng"):
            kw.ensure_keywords(cache_dir=tmp_path / "cache", **(TINY | other))
    with pytest.raises(MissingDependencyError):
        kw.ensure_keywords(cache_dir=tmp_path / "empty", **TINY)
