"""One entry point that turns a ``--data`` argument into a :class:`RawDataset`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from edgecnn.core.errors import DataError
from edgecnn.core.records import Record
from edgecnn.core.shapes import parse_shape
from edgecnn.training.data.dataset import RawDataset
from edgecnn.training.data.sensors import CsvColumns

ACCEPTED = (
    "a folder of class sub-folders with images or .wav clips, a .npz, a sensor .csv, or "
    "builtin:digits / builtin:keywords"
)


@dataclass(frozen=True)
class DataOptions(Record):
    """Options that shape how a source is read.

    Attributes:
        input_shape: model input shape; images are resized to it.
        window: samples per window for sensor CSVs.
        hop: samples between window starts (default: half a window).
        label_column: the CSV label column.
        segment_column: the CSV recording column (default: ``segment`` when present).
        time_column: the CSV time column, ignored as a feature (default: ``time`` or
            ``timestamp`` when present).
        sample_rate_hz: the sensor sample rate, when the CSV has no time column.
        clip_ms: audio: clip length in milliseconds; clips are padded or cut to it.
        audio_classes: audio: target words (the other words become ``_unknown_`` and a
            ``_silence_`` class is added); None: every word folder is a class.
        audio_features: audio: the front end, e.g. ``mfcc`` or ``log_mel,mel_bands=32``
            (see :func:`~edgecnn.training.data.audiospec.parse_front_end`).
    """

    input_shape: tuple[int, ...] | None = None
    window: int = 128
    hop: int | None = None
    label_column: str = "label"
    segment_column: str | None = None
    time_column: str | None = None
    sample_rate_hz: float | None = None
    clip_ms: int = 1000
    audio_classes: tuple[str, ...] | None = None
    audio_features: str | None = None

    def __post_init__(self) -> None:
        if self.input_shape is not None:  # "32x32x3", "32,32,3" or a list, as everywhere
            object.__setattr__(self, "input_shape", parse_shape(self.input_shape))


def load_data(source: str, options: DataOptions = DataOptions()) -> RawDataset:
    """Loads ``source``: a class folder of images, a ``.npz``, a sensor ``.csv`` or a builtin.

    Raises:
        DataError: the source is missing, empty, of an unknown kind or malformed.
    """
    if source.startswith("builtin:"):
        return load_builtin(source.split(":", 1)[1], options)
    path = Path(source).expanduser()
    if not path.exists():
        raise DataError(f"data path {source!r} does not exist; give {ACCEPTED}")
    if path.is_dir():
        from edgecnn.training.data.audio import has_wav_folders

        if has_wav_folders(path):
            return load_audio(path, options)
        from edgecnn.training.data.images import load_image_folder

        return load_image_folder(path, input_shape=options.input_shape)
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise DataError(f"data file {source!r} is empty")
    if suffix == ".npz":
        from edgecnn.training.data.arrays import load_npz

        return load_npz(path)
    if suffix == ".csv":
        from edgecnn.training.data.sensors import load_sensor_csv

        return load_sensor_csv(
            path,
            window=options.window,
            hop=options.hop,
            columns=CsvColumns(options.label_column, options.segment_column, options.time_column),
            sample_rate_hz=options.sample_rate_hz,
        )
    raise DataError(f"data {source!r} has unknown type {suffix or '(none)'}; give {ACCEPTED}")


def load_audio(path: Path, options: DataOptions) -> RawDataset:
    """A Speech Commands style folder of WAV clips, with the front end the options name."""
    from edgecnn.training.data.audio import AudioOptions, load_audio_folder
    from edgecnn.training.data.audiospec import parse_front_end

    front = parse_front_end(options.audio_features, clip_ms=options.clip_ms)
    return load_audio_folder(path, AudioOptions(front=front, classes=options.audio_classes))


def load_builtin(name: str, options: DataOptions) -> RawDataset:
    """Loads ``builtin:NAME``: ``digits``, or ``keywords``, whose target words are the classes
    unless others are asked (the unknown words become ``_unknown_``, and ``_silence_`` is added).

    Raises:
        DataError: an unknown name.
    """
    from edgecnn.training.data import builtin

    builtin.check_builtin(name)
    if name == "digits":
        return builtin.load_digits()
    root, words = builtin.keyword_folder()
    if options.audio_classes is None:
        options = dataclasses.replace(options, audio_classes=words)
    return dataclasses.replace(load_audio(root, options), source="builtin:keywords")
