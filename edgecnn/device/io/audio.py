"""Audio sources: a replayed WAV file, a folder of labelled WAV clips; ``open_audio``.

Each yields blocks of mono float32 samples at the model's rate (``Item.block``), which the
loop's ring buffer cuts into one window every ``hop`` samples, as training cut the clips.
The live microphone is in ``microphone``. Device side: stdlib and numpy only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from edgecnn.core.errors import BadInputError
from edgecnn.core.preprocess import Preprocessing
from edgecnn.core.wav import BACKGROUND_NOISE_FOLDER, read_wav
from edgecnn.device.io.base import Item, Paced, Source, class_folder_files, front_rate
from edgecnn.device.io.microphone import Microphone


def blocks_of(samples: np.ndarray, size: int) -> Iterator[np.ndarray]:
    """Consecutive (n, 1) float32 blocks of ``size`` samples (the last may be shorter)."""
    column = np.asarray(samples, dtype=np.float32).reshape(-1, 1)
    for start in range(0, len(column), size):
        yield column[start : start + size]


def clip_at_least(samples: np.ndarray, window: int) -> np.ndarray:
    """Zeros appended up to one window (training's rule for short clips), so a short clip
    still gives one window; longer clips stream as they are."""
    if len(samples) >= window:
        return samples
    return np.pad(samples, (0, window - len(samples)))


class WavReplay(Source):
    """A recorded WAV file, resampled to the model's rate, in blocks of ``hop`` samples.

    A file shorter than one window is padded with zeros to one window (training's rule).

    Args:
        path: the .wav file.
        pre: the model's preprocessing (an audio model).
        rate_hz: samples per second to replay at (0 = as fast as possible).
    """

    recorded = True

    def __init__(self, path: Path, pre: Preprocessing, *, rate_hz: float) -> None:
        super().__init__()
        rate = front_rate(pre, f"replay file {path} is audio (.wav)")
        self.samples = clip_at_least(read_wav(path, rate_hz=rate).samples, pre.window)
        self.block, self.rate_hz = pre.hop, rate_hz

    def __iter__(self) -> Iterator[Item]:
        pace = Paced(self.rate_hz / self.block, self.stop)
        for block in blocks_of(self.samples, self.block):
            if not pace.wait():
                return
            yield Item(block, False, block=True)


def wav_files_in_order(root: Path) -> list[Path]:
    """The .wav files (any case) under ``root`` in the order ``dir:`` reads them.

    Sorted by path, ``_background_noise_`` and deeper folders skipped (see
    :func:`~edgecnn.device.io.base.class_folder_files`): what the runtime replays, so a demo
    that lists a folder this way pairs each file with the runtime's result for it.
    """
    root = Path(root)
    return class_folder_files(root, (
        p
        for p in root.rglob("*")
        if p.suffix.lower() == ".wav"
        and p.is_file()
        and BACKGROUND_NOISE_FOLDER not in p.relative_to(root).parts
    ))  # fmt: skip


class WavFolder(Source):
    """WAV clips in class sub-folders; each file is one recording, labelled by its folder.

    Files directly in the folder have no label; ``_background_noise_`` is skipped; the order
    is :func:`wav_files_in_order`'s. A file that cannot be read is dropped and counted; one
    shorter than a window is padded with zeros to one window, so a clip one window long (or
    shorter) gives exactly one window. Read as fast as possible unless a rate is given.
    """

    recorded = True

    def __init__(self, root: Path, pre: Preprocessing, *, rate_hz: float = 0.0) -> None:
        super().__init__()
        self.rate = front_rate(pre, f"folder {root} is read as WAV clips")
        if not root.is_dir():
            raise BadInputError(f"audio folder {root} does not exist")
        self.files = wav_files_in_order(root)
        if not self.files:
            raise BadInputError(
                f"audio folder {root} holds no .wav files; expected class sub-folders of clips"
            )
        self.root, self.pre, self.rate_hz = root, pre, rate_hz

    def __iter__(self) -> Iterator[Item]:
        pace = Paced(self.rate_hz / self.pre.hop, self.stop)
        for path in self.files:
            try:
                samples = read_wav(path, rate_hz=self.rate).samples
            except BadInputError as exc:  # one bad clip is counted, not fatal
                self.stats.drop(str(exc))
                continue
            label = path.parent.name if path.parent != self.root else None
            first = True
            for block in blocks_of(clip_at_least(samples, self.pre.window), self.pre.hop):
                if not pace.wait():
                    return
                yield Item(block, False, label, new_recording=first, block=True)
                first = False


def open_audio(
    scheme: str, target: str, pre: Preprocessing, *, rate: float | None, pace: float
) -> Source:
    """The audio source of ``replay:FILE.wav``, ``dir:PATH`` or ``mic[:DEVICE]``.

    Args:
        scheme: replay, dir or mic.
        target: the file, folder or ALSA device (empty: ``default``).
        pre: the model's preprocessing.
        rate: ``?rate=`` or ``--rate`` when given.
        pace: the replay rate in samples/s (0 = as fast as possible).
    """
    if scheme == "replay":
        return WavReplay(Path(target), pre, rate_hz=pace)
    if scheme == "dir":
        return WavFolder(Path(target), pre, rate_hz=rate or 0.0)
    return Microphone(target or "default", pre, rate_hz=rate)
