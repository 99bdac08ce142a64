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
from typing import Any

import numpy as np

from edgecnn.core import fileio
from edgecnn.core.console import progress_bar, to_stderr
from edgecnn.core.errors import BadInputError, MissingDependencyError
from edgecnn.core.records import Record
from edgecnn.core.wav import write_wav
from edgecnn.training.data.espeak import (
    PITCH,
    SPEED_WPM,
    Speaker,
    draw_speakers,
    espeak_version,
    speak,
)
from edgecnn.training.data.noise import (
    NOISE_FILES,
    NOISE_SECONDS,
    PEAK,
    SNR_DB,
    make_clip,
    make_noises,
)

DEFAULT_WORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
DEFAULT_UNKNOWN = ("cat", "dog", "bird", "bed", "tree", "house", "happy", "wow", "marvin", "sheila")
DEFAULT_SPEAKERS = 100
MAX_CLIP_MS = int(NOISE_SECONDS * 1000)  # a clip's noise is a slice of one noise recording
RECIPE = 1  # bump when the audio recipe changes: it is part of the cache key
_WORD = re.compile(r"[a-z][a-z'-]*\Z")


@dataclass(frozen=True)
class KeywordOptions(Record):
    """What a keyword set is made of (recorded in keywords.json; with espeak-ng's version and
    :data:`RECIPE`, the cache key). Checked when made: BadInputError, one line."""

    words: tuple[str, ...] = DEFAULT_WORDS
    unknown_words: tuple[str, ...] = DEFAULT_UNKNOWN
    speakers: int = DEFAULT_SPEAKERS
    seed: int = 0
    sample_rate_hz: int = 16000
    clip_ms: int = 1000
    noise: bool = True

    def __post_init__(self) -> None:
        fixed = {
            "words": _words(self.words, "words"),
            "unknown_words": _words(self.unknown_words, "unknown words"),
            **{k: int(getattr(self, k)) for k in ("speakers", "seed", "sample_rate_hz", "clip_ms")},
            "noise": bool(self.noise),
        }
        for name, value in fixed.items():
            object.__setattr__(self, name, value)
        repeated = sorted({w for w in self.all_words if self.all_words.count(w) > 1})
        if not self.words:
            raise BadInputError("no target words given; give at least one, e.g. --words yes,no")
        if repeated:
            raise BadInputError(f"word(s) given more than once: {', '.join(repeated)}")
        if self.speakers < 3:  # the split keeps whole speakers apart: train, val and test
            raise BadInputError(
                f"speakers must be at least 3 (train, validation and test), got {self.speakers}"
            )
        if not 8000 <= self.sample_rate_hz <= 48000:
            raise BadInputError(f"sample rate {self.sample_rate_hz} Hz is outside 8000..48000 Hz")
        if not 100 <= self.clip_ms <= MAX_CLIP_MS:
            raise BadInputError(f"clip length {self.clip_ms} ms is outside 100..{MAX_CLIP_MS} ms")

    @property
    def all_words(self) -> tuple[str, ...]:
        return self.words + self.unknown_words

    def record(self) -> dict:
        """The options and recipe as keywords.json holds them (lists, not tuples)."""
        return self.to_dict() | {"recipe": RECIPE}

    def cache_name(self, version: str) -> str:
        """``keywords-<hash of the options, espeak-ng version and recipe>``."""
        key = json.dumps(self.to_dict() | {"espeak": version, "recipe": RECIPE}, sort_keys=True)
        return f"keywords-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def _words(words, what: str) -> tuple[str, ...]:
    if isinstance(words, str):
        raise BadInputError(f"{what} must be a list of words, got the string {words!r}")
    for word in words:
        if not isinstance(word, str) or not _WORD.match(word):
            raise BadInputError(f"{what}: {word!r} is not a word; use lowercase a-z (and ' or -)")
    return tuple(words)


@dataclass(frozen=True)
class KeywordSetInfo(Record):
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


def generate_keywords(out: Path, *, workers: int = 2, **options: Any) -> KeywordSetInfo:
    """Writes a keyword set into the new folder ``out`` (built beside it, then renamed).

    ``options`` are :class:`KeywordOptions`' fields (words, unknown_words, speakers, seed,
    sample_rate_hz, clip_ms, noise); ``workers`` espeak-ng processes run at once.

    Raises:
        BadInputError: bad words, speakers, rate, clip length or workers, or ``out`` not empty.
        MissingDependencyError: espeak-ng is not installed.
    """
    opts = KeywordOptions(**options)
    if workers < 1:
        raise BadInputError(f"workers must be at least 1, got {workers}")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BadInputError(f"{out} exists and is not an empty folder; give a new --out folder")
    version, started = espeak_version(), time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        cut = _write_set(tmp, opts, version, workers)
        os.chmod(tmp, 0o777 & ~fileio.umask())  # mkdtemp makes 0700
        if out.exists():
            out.rmdir()
        os.rename(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return KeywordSetInfo(
        path=str(out), clips=opts.speakers * len(opts.all_words), cut_clips=cut,
        espeak_version=version, seconds=round(time.perf_counter() - started, 2), **asdict(opts),
    )


def ensure_keywords(*, cache_dir: Path | None = None, workers: int = 2, **options: Any) -> Path:
    """The cached keyword set for these options (:class:`KeywordOptions`' fields), generated
    on first use.

    The folder is ``<cache>/keywords-<hash of the options and espeak-ng version>``, where
    ``<cache>`` is ``cache_dir``, ``$EDGECNN_CACHE`` or ``$XDG_CACHE_HOME/edgecnn`` (default
    ``~/.cache/edgecnn``). It only appears once complete; leftover temp folders are ignored.
    Without espeak-ng, a complete cached set with the same options (made by any espeak-ng
    version) is used; MissingDependencyError when there is none.
    """
    opts, root = KeywordOptions(**options), fileio.cache_root(cache_dir)
    try:
        version = espeak_version()
    except MissingDependencyError:
        found = _cached_set(root, opts)
        if found is None:
            raise
        return found
    final = root / opts.cache_name(version)
    if (final / "keywords.json").is_file():
        return final
    clips = opts.speakers * len(opts.all_words)
    to_stderr(f"generating the keyword set ({clips} clips, espeak-ng) once into {final}")
    try:
        generate_keywords(final, workers=workers, **asdict(opts))
    except (BadInputError, OSError):
        if not (final / "keywords.json").is_file():  # else another process finished first
            raise
    return final


def _cached_set(root: Path, opts: KeywordOptions) -> Path | None:
    """The first complete set under ``root`` (by name) whose keywords.json records ``opts``."""
    want = opts.record()
    for folder in sorted(root.glob("keywords-*")):
        try:  # keywords.json is written last, so a folder that has it is complete
            record = json.loads((folder / "keywords.json").read_text())
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and {k: record.get(k) for k in want} == want:
            return folder
    return None


def _write_set(root: Path, opts: KeywordOptions, version: str, workers: int) -> int:
    """Writes every clip, the noise, README.txt and keywords.json; returns how many were cut."""
    rate = opts.sample_rate_hz
    noises = make_noises(rate_hz=rate, seconds=NOISE_SECONDS, seed=opts.seed)
    for kind, samples in noises.items():
        write_wav(root / "_background_noise_" / NOISE_FILES[kind], samples, sample_rate_hz=rate)
    people = draw_speakers(opts.speakers, seed=opts.seed)
    for word in opts.all_words:
        (root / word).mkdir()
    cut = _speak_all(root, opts, people, noises if opts.noise else None, workers)
    _write_notes(root, opts, version, people, cut)
    return cut


def _speak_all(root: Path, opts: KeywordOptions, people: list[Speaker], noises, workers: int):
    """Every speaker saying every word into ``root/<word>/``; returns how many were cut."""
    scratch = Path(tempfile.mkdtemp(prefix=".espeak-", dir=root))
    rate = opts.sample_rate_hz

    def one(job: tuple[int, Speaker, str]) -> bool:
        index, speaker, word = job
        raw, raw_rate = speak(word, speaker, folder=scratch)
        rng = np.random.default_rng([opts.seed, 3, index, zlib.crc32(word.encode())])
        clip, was_cut = make_clip(
            raw, raw_rate=raw_rate, rate_hz=rate, clip_ms=opts.clip_ms, rng=rng, noises=noises
        )
        write_wav(root / word / f"{speaker.id}_nohash_0.wav", clip, sample_rate_hz=rate)
        return was_cut

    jobs = [(i, speaker, word) for i, speaker in enumerate(people) for word in opts.all_words]
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
    return cut


def _write_notes(root: Path, opts: KeywordOptions, version: str, people: list[Speaker], cut: int):
    record = {
        "generator": "edgecnn data keywords", "recipe": RECIPE, "espeak_ng": version,
        **opts.to_dict(), "layout": "<word>/<speaker>_nohash_0.wav; _background_noise_/*.wav",
        "speed_wpm": list(SPEED_WPM), "pitch": list(PITCH), "peak": list(PEAK),
        "snr_db": list(SNR_DB), "cut_clips": cut,
        "background_noise": sorted(NOISE_FILES.values()),
        "speaker_list": [p.to_dict() for p in people],
    }
    fileio.write_json(root / "keywords.json", record)
    fileio.write_text(root / "README.txt", _readme(opts, version))


def _readme(opts: KeywordOptions, version: str) -> str:
    noise = (
        f"mixed with a slice of one generated noise at {SNR_DB[0]:g}..{SNR_DB[1]:g} dB SNR"
        if opts.noise else "left clean (no noise mixed in)"
    )
    return (
        "Keyword-spotting clips generated offline by `edgecnn data keywords` with espeak-ng "
        f"{version}.\n\n"
        f"Target words:  {' '.join(opts.words)}\n"
        f"Unknown words: {' '.join(opts.unknown_words) or '(none)'}\n"
        f"Speakers:      {opts.speakers} (espeak-ng voice + variant, speed, pitch; "
        "listed in keywords.json)\n"
        f"Clips:         {opts.sample_rate_hz} Hz 16-bit mono PCM, "
        f"{opts.clip_ms} ms, one per speaker and word\n"
        f"Seed:          {opts.seed}\n\n"
        "Layout (Google Speech Commands): <word>/<speaker>_nohash_0.wav; long noise "
        "recordings in _background_noise_/.\n"
        "Each word is trimmed of silence, resampled from espeak-ng's rate with a polyphase "
        f"windowed sinc, scaled to a random peak of {PEAK[0]:g}..{PEAK[1]:g}, placed at a "
        f"random offset (cut when longer than the clip) and {noise}.\n"
    )
