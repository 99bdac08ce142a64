"""Folders of WAV clips in the Speech Commands layout: one sub-folder per word.

``root/<word>/<speaker>_nohash_<n>.wav`` (any file name works; the ``_nohash_`` prefix names
the speaker so that no speaker is in two splits), plus an optional ``_background_noise_``
folder of long noise recordings, used to make ``_silence_`` clips and for the ``bgnoise``
augmentation. Clips are resampled to the front end's rate, mixed down to mono, and padded
or cut to the clip length by the rule in :data:`CLIP_RULE`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecnn.core.audiofeatures import AudioFrontEnd
from edgecnn.core.errors import BadInputError, DataError
from edgecnn.core.preprocess import DataKind
from edgecnn.core.wav import BACKGROUND_NOISE_FOLDER as BACKGROUND
from edgecnn.core.wav import read_wav
from edgecnn.training.data.dataset import RawDataset

SILENCE = "_silence_"
UNKNOWN = "_unknown_"
SPEAKER_MARK = "_nohash_"
CLIP_RULE = (
    "shorter clips: zeros appended; longer clips: the clip-length stretch with the most energy"
)
SILENCE_GAIN = (0.0, 1.0)  # silence clips: a background slice times a gain drawn from this


@dataclass(frozen=True)
class AudioOptions:
    """How a folder of clips becomes a data set.

    Attributes:
        front: the feature front end (rate, clip length, features).
        classes: target words; every other word folder becomes ``_unknown_`` and a
            ``_silence_`` class is added. None: every word folder is a class.
        seed: seeds the choice of unknown clips and the silence slices.
    """

    front: AudioFrontEnd
    classes: tuple[str, ...] | None = None
    seed: int = 0


def has_wav_folders(root: Path) -> bool:
    """True when ``root``'s class folders hold WAV files (an audio data set)."""
    return any(_is_wav(p) for folder in _word_folders(root) for p in folder.iterdir())


def _is_wav(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() == ".wav" and not path.name.startswith(".")


def load_audio_folder(root: Path, options: AudioOptions) -> RawDataset:
    """Reads every clip of ``root`` into a (clips, clip_samples) float32 array.

    Raises:
        DataError: fewer than two classes, an unknown target word, an empty class folder,
            or a file that is not a readable WAV (named).
    """
    front, rng = options.front, np.random.default_rng(options.seed)
    files = {f.name: _wav_files(f) for f in _word_folders(root)}
    background = _background(root, front)
    names, picked = _choose_classes(root, files, options.classes, rng)
    clips, labels, speakers, fitted = [], [], [], {"padded": 0, "cut": 0}
    for index, name in enumerate(names):
        for path in picked.get(name, []):
            clips.append(fit_clip(_read(path, front), front.clip_samples, fitted))
            labels.append(index)
            speakers.append(_speaker(path))
    # speaker ids only when file names give them; else a stratified split
    named = any(SPEAKER_MARK in p.stem for paths in picked.values() for p in paths)
    if options.classes is not None:
        count = max(1, len(clips) // max(1, len(options.classes)))
        clips += _silence(background, count, front.clip_samples, rng)
        labels += [names.index(SILENCE)] * count
        # silence has no speaker: dealt round the speakers, each split gets its share
        voices = sorted(set(speakers))
        speakers += [voices[i % len(voices)] for i in range(count)]
    return RawDataset(
        x=_on_16_bit_grid(np.stack(clips)),
        y=np.asarray(labels, dtype=np.int64),
        labels=tuple(names),
        kind=DataKind.AUDIO,
        source=str(root),
        groups=_group_ids(speakers) if named else None,
        info=_info(front, fitted, background, options) | {"speakers": named},
        background=background,
    )


def _on_16_bit_grid(clips: np.ndarray) -> np.ndarray:
    """Clips rounded to 16-bit PCM steps, so that a clip written back as a 16-bit WAV (the
    demo's replay) is the very same clip; the rounding is 96 dB below full scale."""
    return (np.round(np.clip(clips, -1.0, 32767 / 32768) * 32768.0) / 32768.0).astype(np.float32)


def _word_folders(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.iterdir()
        if p.is_dir() and not p.name.startswith(".") and p.name != BACKGROUND
    )


def _wav_files(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    wavs = [p for p in files if p.suffix.lower() == ".wav"]
    if not wavs:
        raise DataError(f"class folder {folder} has no .wav clips")
    others = [p.name for p in files if p.suffix.lower() != ".wav"]
    if others:
        raise DataError(
            f"{folder / others[0]} is not a .wav clip; audio class folders hold WAVs only"
        )
    return wavs


def _choose_classes(root, files, classes, rng) -> tuple[list[str], dict[str, list[Path]]]:
    """Class names and their files: every folder, or targets + unknown + silence."""
    if classes is None:
        if len(files) < 2:
            raise DataError(
                f"{root}: found {len(files)} word folder(s) with WAV clips; a classifier needs "
                "at least 2 (one sub-folder per class)"
            )
        return list(files), files
    missing = [c for c in classes if c not in files]
    if missing:
        raise DataError(
            f"{root}: no folder for target word(s) {missing}; the folders are {sorted(files)}"
        )
    picked = {c: files[c] for c in classes}
    rest = [p for name, paths in files.items() if name not in classes for p in paths]
    names = list(classes)
    if rest:  # about as many unknown clips as one target word has
        size = int(np.mean([len(v) for v in picked.values()]))
        chosen = rng.choice(len(rest), size=min(size, len(rest)), replace=False)
        picked[UNKNOWN] = [rest[i] for i in sorted(chosen)]
        names.append(UNKNOWN)
    names.append(SILENCE)
    return names, picked


def _read(path: Path, front: AudioFrontEnd) -> np.ndarray:
    try:
        return read_wav(path, rate_hz=front.sample_rate_hz).samples
    except BadInputError as exc:
        raise DataError(str(exc)) from None


def fit_clip(samples: np.ndarray, length: int, counts: dict[str, int]) -> np.ndarray:
    """Pads with zeros or keeps the loudest ``length`` samples (see :data:`CLIP_RULE`)."""
    if len(samples) < length:
        counts["padded"] += 1
        return np.pad(samples, (0, length - len(samples)))
    if len(samples) > length:
        counts["cut"] += 1
        energy = np.concatenate([[0.0], np.cumsum(np.square(samples, dtype=np.float64))])
        start = int(np.argmax(energy[length:] - energy[:-length]))
        return samples[start : start + length]
    return samples


def _speaker(path: Path) -> str:
    """The speaker of a Speech Commands file name; else the file is its own speaker."""
    stem = path.stem
    return stem.split(SPEAKER_MARK)[0] if SPEAKER_MARK in stem else f"{path.parent.name}/{stem}"


def _group_ids(speakers: Sequence[str]) -> np.ndarray:
    _, ids = np.unique(np.asarray(speakers), return_inverse=True)
    return ids.astype(np.int64)


def _background(root: Path, front: AudioFrontEnd) -> np.ndarray | None:
    """All background recordings joined, or None without a ``_background_noise_`` folder."""
    folder = root / BACKGROUND
    if not folder.is_dir():
        return None
    parts = [_read(p, front) for p in sorted(folder.iterdir()) if _is_wav(p)]
    return np.concatenate(parts).astype(np.float32) if parts else None


def _silence(background, count: int, length: int, rng) -> list[np.ndarray]:
    """Silence clips: quiet background slices (zeros when there is no background)."""
    if background is None or len(background) < length:
        return [np.zeros(length, dtype=np.float32) for _ in range(count)]
    starts = rng.integers(0, len(background) - length + 1, size=count)
    gains = rng.uniform(*SILENCE_GAIN, size=count)
    return [background[s : s + length] * np.float32(g) for s, g in zip(starts, gains, strict=True)]


def _info(front, fitted, background, options) -> dict:
    return {
        "audio": front.to_dict(),
        "window": front.clip_samples,
        "hop": front.hop_samples,
        "sample_rate_hz": front.sample_rate_hz,
        "clip_rule": CLIP_RULE,
        "clips_padded": fitted["padded"],
        "clips_cut": fitted["cut"],
        "background_seconds": 0.0
        if background is None
        else round(len(background) / front.sample_rate_hz, 2),
        "target_classes": list(options.classes) if options.classes else None,
    }
