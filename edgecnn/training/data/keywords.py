"""An offline keyword-spotting data set in Google Speech Commands' layout, said by espeak-ng.

``out/<word>/<speaker>_nohash_0.wav`` (16-bit mono PCM, exactly ``clip_ms`` long) for every
target and unknown word, ``out/_background_noise_/*.wav``, ``README.txt`` and ``keywords.json``.
Each speaker (:mod:`.espeak`) says every word once, so a loader can keep speakers apart between
train and test. Same options and espeak-ng: same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from edgecnn.core import fileio
from edgecnn.core.console import progress_bar, to_stderr
from edgecnn.core.errors import BadInputError
from edgecnn.core.wav import resample, write_wav
from edgecnn.training.data.espeak import (
    PITCH,
    SPEED_WPM,
    Speaker,
    draw_speakers,
    espeak_version,
    speak,
)
from edgecnn.training.data.noise import NOISE_FILES, NOISE_SECONDS, make_noises

DEFAULT_WORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
DEFAULT_UNKNOWN = (
    "cat", "dog", "bird", "bed", "tree", "house", "happy", "wow", "marvin", "sheila",
)
DEFAULT_SPEAKERS = 100
RECIPE = 1  # bump when the audio recipe changes: it is part of the cache key
PEAK = (0.3, 0.9)  # speech peak after the random gain
SNR_DB = (5.0, 30.0)
_WORD = re.compile(r"[a-z][a-z'-]*\Z")


@dataclass(frozen=True)
class KeywordSetInfo:
    """What :func:`generate_keywords` wrote (``to_dict()`` for ``--json``)."""

    path: str
    words: tuple[str, ...]
    unknown_words: tuple[str, ...]
    speakers: int
    clips: int
    cut_clips: int
    sample_rate_hz: int
    clip_ms: int
    noise: bool
    seed: int
    espeak_version: str
    seconds: float

    def to_dict(self) -> dict:
        return asdict(self) | {"words": list(self.words), "unknown_words": list(self.unknown_words)}



def generate_keywords(
    out: Path,
    *,
    words: tuple[str, ...] | list[str] = DEFAULT_WORDS,
    unknown_words: tuple[str, ...] | list[str] = DEFAULT_UNKNOWN,
    speakers: int = DEFAULT_SPEAKERS,
    seed: int = 0,
    sample_rate_hz: int = 16000,
    clip_ms: int = 1000,
    noise: bool = True,
    workers: int = 2,
) -> KeywordSetInfo:
    """Writes a keyword set into the new folder ``out`` (built beside it, then renamed).

    Raises:
        BadInputError: bad words, speakers, rate, clip length or workers, or ``out`` not empty.
        MissingDependencyError: espeak-ng is not installed.
    """
    options = _options(words, unknown_words, speakers, seed, sample_rate_hz, clip_ms, noise)
    if workers < 1:
        raise BadInputError(f"workers must be at least 1, got {workers}")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BadInputError(f"{out} exists and is not an empty folder; give a new --out folder")
    version, started = espeak_version(), time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        cut = _write_set(tmp, options, version, workers)
        os.chmod(tmp, 0o777 & ~fileio.umask())  # mkdtemp makes 0700
        if out.exists():
            out.rmdir()
        os.rename(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    all_words = options["words"] + options["unknown_words"]
    return KeywordSetInfo(
        path=str(out), words=options["words"], unknown_words=options["unknown_words"],
        speakers=speakers, clips=speakers * len(all_words), cut_clips=cut,
        sample_rate_hz=sample_rate_hz, clip_ms=clip_ms, noise=noise, seed=seed,
        espeak_version=version, seconds=round(time.perf_counter() - started, 2),
    )


def ensure_keywords(
    *,
    cache_dir: Path | None = None,
    words: tuple[str, ...] | list[str] = DEFAULT_WORDS,
    unknown_words: tuple[str, ...] | list[str] = DEFAULT_UNKNOWN,
    speakers: int = DEFAULT_SPEAKERS,
    seed: int = 0,
    sample_rate_hz: int = 16000,
    clip_ms: int = 1000,
    noise: bool = True,
    workers: int = 2,
) -> Path:
    """The cached keyword set for these options, generated on first use.

    The folder is ``<cache>/keywords-<hash of the options and espeak-ng version>``, where
    ``<cache>`` is ``cache_dir``, ``$EDGECNN_CACHE`` or ``$XDG_CACHE_HOME/edgecnn`` (default
    ``~/.cache/edgecnn``). It only appears once complete; leftover temp folders are ignored.
    """
    options = _options(words, unknown_words, speakers, seed, sample_rate_hz, clip_ms, noise)
    key = json.dumps(options | {"espeak": espeak_version(), "recipe": RECIPE}, sort_keys=True)
    final = _cache_root(cache_dir) / f"keywords-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    if (final / "keywords.json").is_file():
        return final
    clips = speakers * len(options["words"] + options["unknown_words"])
    to_stderr(f"generating the keyword set ({clips} clips, espeak-ng) once into {final}")
    try:
        generate_keywords(final, workers=workers, **options)
    except (BadInputError, OSError):
        if not (final / "keywords.json").is_file():  # else another process finished first
            raise
    return final


def _cache_root(cache_dir: Path | None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir)
    if os.environ.get("EDGECNN_CACHE"):
        return Path(os.environ["EDGECNN_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "edgecnn"


def _options(words, unknown_words, speakers, seed, sample_rate_hz, clip_ms, noise) -> dict:
    """Checks the options; returns them as the plain dict recorded in keywords.json."""
    words, unknown_words = _words(words, "words"), _words(unknown_words, "unknown words")
    if not words:
        raise BadInputError("no target words given; give at least one, e.g. --words yes,no")
    every = words + unknown_words
    repeated = sorted({w for w in every if every.count(w) > 1})
    if repeated:
        raise BadInputError(f"word(s) given more than once: {', '.join(repeated)}")
    if speakers < 2:
        raise BadInputError(f"speakers must be at least 2 (train and test), got {speakers}")
    if not 8000 <= sample_rate_hz <= 48000:
        raise BadInputError(f"sample rate {sample_rate_hz} Hz is outside 8000..48000 Hz")
    if clip_ms < 100:
        raise BadInputError(f"clip length {clip_ms} ms is too short; give at least 100 ms")
    return {
        "words": words, "unknown_words": unknown_words, "speakers": int(speakers),
        "seed": int(seed), "sample_rate_hz": int(sample_rate_hz), "clip_ms": int(clip_ms),
        "noise": bool(noise),
    }


def _words(words, what: str) -> tuple[str, ...]:
    if isinstance(words, str):
        raise BadInputError(f"{what} must be a list of words, got the string {words!r}")
    for word in words:
        if not isinstance(word, str) or not _WORD.match(word):
            raise BadInputError(
                f"{what}: {word!r} is not a word; use lowercase letters a-z (and ' or -)"
            )
    return tuple(words)


def _write_set(root: Path, options: dict, version: str, workers: int) -> int:
    """Writes every clip, the noise, README.txt and keywords.json; returns how many were cut."""
    rate, seed = options["sample_rate_hz"], options["seed"]
    noises = make_noises(rate_hz=rate, seconds=NOISE_SECONDS, seed=seed)
    for kind, samples in noises.items():
        write_wav(root / "_background_noise_" / NOISE_FILES[kind], samples, sample_rate_hz=rate)
    people = draw_speakers(options["speakers"], seed=seed)
    all_words = options["words"] + options["unknown_words"]
    for word in all_words:
        (root / word).mkdir()
    mix = noises if options["noise"] else None
    scratch = Path(tempfile.mkdtemp(prefix=".espeak-", dir=root))

    def one(job: tuple[int, Speaker, str]) -> bool:
        index, speaker, word = job
        raw, raw_rate = speak(word, speaker, folder=scratch)
        rng = np.random.default_rng([seed, 3, index, zlib.crc32(word.encode())])
        clip, was_cut = make_clip(
            raw, raw_rate=raw_rate, rate_hz=rate, clip_ms=options["clip_ms"], rng=rng, noises=mix
        )
        write_wav(root / word / f"{speaker.id}_nohash_0.wav", clip, sample_rate_hz=rate)
        return was_cut

    jobs = [(i, speaker, word) for i, speaker in enumerate(people) for word in all_words]
    bar = progress_bar(len(jobs), label="speaking") if sys.stderr.isatty() else None
    cut = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for was_cut in pool.map(one, jobs):
            cut += was_cut
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.finish_line()
    scratch.rmdir()
    _write_notes(root, options, version, people, cut)
    return cut


def make_clip(
    raw: np.ndarray,
    *,
    raw_rate: int,
    rate_hz: int,
    clip_ms: int,
    rng: np.random.Generator,
    noises: dict[str, np.ndarray] | None,
) -> tuple[np.ndarray, bool]:
    """One clip: trimmed word, random gain and offset, optional noise at a random SNR.

    Returns the float32 clip (``clip_ms`` long at ``rate_hz``) and whether the word was cut.
    """
    word = resample(trim_silence(raw), from_hz=raw_rate, to_hz=rate_hz).astype(np.float64)
    word *= rng.uniform(*PEAK) / max(float(np.max(np.abs(word))), 1e-9)
    n = rate_hz * clip_ms // 1000
    cut = len(word) > n
    if cut:  # keep the onset; a 10 ms fade avoids a click at the cut
        fade = min(n, rate_hz // 100)
        word = word[:n]
        word[n - fade:] *= np.linspace(1.0, 0.0, fade)
    clip = np.zeros(n)
    offset = int(rng.integers(0, n - len(word) + 1))
    clip[offset:offset + len(word)] = word
    kinds = sorted(NOISE_FILES)  # drawn even without noise: the same gains and offsets either way
    kind, start = kinds[int(rng.integers(len(kinds)))], rng.random()
    snr_db = rng.uniform(*SNR_DB)
    if noises is not None:
        piece = noises[kind][int(start * (len(noises[kind]) - n + 1)):][:n].astype(np.float64)
        speech_rms = float(np.sqrt(np.mean(word**2)))
        piece_rms = max(float(np.sqrt(np.mean(piece**2))), 1e-12)
        clip += piece * speech_rms / (piece_rms * 10 ** (snr_db / 20))
    peak = float(np.max(np.abs(clip)))
    if peak > 0.99:
        clip *= 0.99 / peak
    return clip.astype(np.float32), cut


def trim_silence(samples: np.ndarray, *, threshold: float = 0.01, margin: int = 220) -> np.ndarray:
    """``samples`` without the leading and trailing stretches below ``threshold`` x peak
    (``margin`` samples kept either side)."""
    loud = np.flatnonzero(np.abs(samples) > threshold * float(np.max(np.abs(samples))))
    if loud.size == 0:
        return samples
    return samples[max(0, loud[0] - margin):loud[-1] + 1 + margin]


def _write_notes(root: Path, options: dict, version: str, people: list[Speaker], cut: int) -> None:
    record = {
        "generator": "edgecnn data keywords", "recipe": RECIPE, "espeak_ng": version, **options,
        "layout": "<word>/<speaker>_nohash_0.wav; _background_noise_/*.wav",
        "speed_wpm": list(SPEED_WPM), "pitch": list(PITCH), "peak": list(PEAK),
        "snr_db": list(SNR_DB), "cut_clips": cut,
        "background_noise": sorted(NOISE_FILES.values()),
        "speaker_list": [asdict(p) for p in people],
    }
    fileio.write_json(root / "keywords.json", record)
    fileio.write_text(root / "README.txt", _readme(options, version))


def _readme(options: dict, version: str) -> str:
    noise = (
        f"mixed with a slice of one generated noise at {SNR_DB[0]:g}..{SNR_DB[1]:g} dB SNR"
        if options["noise"] else "left clean (no noise mixed in)"
    )
    return (
        "Keyword-spotting clips generated offline by `edgecnn data keywords` with espeak-ng "
        f"{version}.\n\n"
        f"Target words:  {' '.join(options['words'])}\n"
        f"Unknown words: {' '.join(options['unknown_words']) or '(none)'}\n"
        f"Speakers:      {options['speakers']} (espeak-ng voice + variant, speed, pitch; "
        "listed in keywords.json)\n"
        f"Clips:         {options['sample_rate_hz']} Hz 16-bit mono PCM, "
        f"{options['clip_ms']} ms, one per speaker and word\n"
        f"Seed:          {options['seed']}\n\n"
        "Layout (Google Speech Commands): <word>/<speaker>_nohash_0.wav; long noise "
        "recordings in _background_noise_/.\n"
        "Each word is trimmed of silence, resampled from espeak-ng's rate with a polyphase "
        f"windowed sinc, scaled to a random peak of {PEAK[0]:g}..{PEAK[1]:g}, placed at a "
        f"random offset (cut when longer than the clip) and {noise}.\n"
    )
