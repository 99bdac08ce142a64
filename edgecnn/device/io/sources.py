"""Where raw data comes from: recorded files, stdin, a folder of images.

A source yields :class:`Item` objects: single sensor samples or blocks of audio samples
(cut into windows by the loop), or whole windows/images. Bad samples are dropped and
counted, never fed to a model. :func:`open_source` also opens the live devices of
``serialport``, ``imu`` and ``camera``, and the audio sources of ``audio`` (WAV files, a
folder of clips, a microphone).
"""

from __future__ import annotations

import csv
import math
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np

from edgecnn.core import fileio
from edgecnn.core.errors import BadInputError, MissingDependencyError
from edgecnn.core.preprocess import DataKind, Preprocessing
from edgecnn.device.io.base import (  # noqa: F401 - SourceStats: importers find it here
    Item,
    Paced,
    Source,
    SourceStats,
    class_folder_files,
    finite,
    parse_row,
)
from edgecnn.device.io.lines import stream_lines

SCHEMES = (
    "replay:FILE.csv, replay:FILE.npz, replay:FILE.wav, stdin, dir:PATH (images, or WAV "
    "clips, in PATH/CLASS/ folders as for train), serial:/dev/ttyACM0?baud=115200, "
    "i2c:mpu6050?bus=1&addr=0x68, "
    "camera:0, mic[:DEVICE][?rate=16000]"
)
LIVE_SCHEMES = ("serial", "i2c", "camera", "mic")


def open_source(uri: str, pre: Preprocessing, *, rate_hz: float | None = None) -> Source:
    """Parses a source URI against the model's preprocessing.

    Raises:
        BadInputError: an unknown scheme, a missing file, or data that does not match the
            model (channels, shape).
    """
    parsed = urlparse(uri)
    scheme = parsed.scheme if ":" in uri else parsed.path  # "stdin", "mic?rate=16000"
    options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
    rate = rate_option(options["rate"]) if "rate" in options else rate_hz
    if _is_audio(scheme, parsed.path, pre):
        from edgecnn.device.io.audio import open_audio

        target = parsed.path if ":" in uri else ""
        return open_audio(scheme, target, pre, rate=rate, pace=_pace(rate, pre))
    if scheme == "replay":
        path = Path(parsed.path)
        if path.suffix == ".csv":
            return CsvReplay(path, pre, rate_hz=_pace(rate, pre))
        if path.suffix == ".npz":
            return NpzReplay(path, pre, rate_hz=rate or 0.0)
        raise BadInputError(f"replay file {path} must be .csv, .npz or .wav")
    if scheme == "stdin":
        return CsvLines(sys.stdin, pre)
    if scheme == "dir":
        return ImageFolder(Path(parsed.path), pre)
    if scheme in LIVE_SCHEMES:
        return _open_live(scheme, parsed.path, options, pre, rate)
    raise BadInputError(f"source {uri!r} is not understood; use one of: {SCHEMES}")


def _is_audio(scheme: str, path: str, pre: Preprocessing) -> bool:
    """A WAV replay, a microphone, or a folder read by an audio model."""
    wav = scheme == "replay" and Path(path).suffix.lower() == ".wav"
    return wav or scheme == "mic" or (scheme == "dir" and pre.audio is not None)


def _open_live(
    scheme: str, target: str, options: dict[str, str], pre: Preprocessing, rate: float | None
) -> Source:
    """A device source (its module is imported here so replay runs never load device code)."""
    if scheme == "serial":
        from edgecnn.device.io.serialport import SerialLines

        return SerialLines(target, pre, baud=_int_option(options, "baud", 115200))
    if scheme == "i2c":
        from edgecnn.device.io.imu import Mpu6050

        if target.lower() != "mpu6050":
            raise BadInputError(f"I2C device {target!r} is not supported; use i2c:mpu6050")
        hz = _pace(rate, pre)
        if not hz:
            raise BadInputError(
                "the model records no sample rate; give one with ?rate=HZ or --rate"
            )
        return Mpu6050(
            pre,
            bus=_int_option(options, "bus", 1),
            addr=_int_option(options, "addr", 0x68),
            rate_hz=hz,
        )
    from edgecnn.device.io.camera import Camera

    return Camera(_int_value("camera", target or "0"), pre, rate_hz=rate or 0.0)


def _int_option(options: dict[str, str], key: str, default: int) -> int:
    return _int_value(key, options[key]) if key in options else default


def _int_value(key: str, text: str) -> int:
    """An integer in decimal or 0x hex, e.g. an I2C address."""
    try:
        return int(text, 0)
    except ValueError:
        raise BadInputError(f"{key}={text!r} is not an integer") from None


def rate_option(text: str) -> float:
    """``?rate=HZ``: a finite number of samples per second, 0 or more."""
    try:
        rate = float(text)
    except ValueError:
        rate = math.nan
    if not math.isfinite(rate) or rate < 0:
        raise BadInputError(
            f"source option rate={text!r} must be a number of samples per second, 0 or more "
            "(0 = as fast as possible)"
        )
    return rate


def _pace(rate: float | None, pre: Preprocessing) -> float:
    """Samples per second to replay at: --rate, else the recorded rate, 0 = as fast as possible."""
    if rate is None:
        return pre.sample_rate_hz or 0.0
    return rate


class CsvReplay(Source):
    """A recorded sensor CSV with the model's channel columns (by name, any order).

    True labels and recordings come from the columns training read them from (the
    manifest's ``label_column`` and ``segment_column``; ``label`` and ``segment`` for models
    whose manifest predates them).
    """

    recorded = True

    def __init__(self, path: Path, pre: Preprocessing, *, rate_hz: float) -> None:
        super().__init__()
        if pre.channels is None:
            raise BadInputError(f"the model takes {pre.kind} input, not sensor CSV rows")
        if not path.is_file():
            raise BadInputError(f"replay file {path} does not exist")
        fileio.check_utf8(path, "replay file")
        self.path, self.pre, self.rate_hz = path, pre, rate_hz

    def __iter__(self) -> Iterator[Item]:
        with self.path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [h.strip() for h in next(reader, [])]
            columns = _channel_columns(self.path, header, self.pre.channels)
            label_i = _column(header, self.pre.label_column or "label")
            segment_i = _column(header, self.pre.segment_column or "segment")
            pace, last_segment = Paced(self.rate_hz, self.stop), None
            for row in reader:
                values = parse_row(row, columns, self.stats, width=len(header))
                if values is None:
                    continue
                segment = row[segment_i] if segment_i is not None else None
                if not pace.wait():
                    return
                yield Item(
                    values,
                    False,
                    row[label_i] if label_i is not None else None,
                    new_recording=segment != last_segment and last_segment is not None,
                )
                last_segment = segment


def _column(header: list[str], name: str) -> int | None:
    return header.index(name) if name in header else None


def _channel_columns(path: Path, header: list[str], channels: tuple[str, ...]) -> list[int]:
    missing = [c for c in channels if c not in header]
    if missing:
        raise BadInputError(
            f"{path} lacks the model's channel column(s) {missing}; the model was trained on "
            f"{list(channels)} and the file has {header}"
        )
    return [header.index(c) for c in channels]


class CsvLines(Source):
    """Comma-separated channel values, one sample per line, in the model's channel order.

    A stop request ends the iteration soon even while no line arrives (see
    :func:`~edgecnn.device.io.lines.stream_lines`).
    """

    def __init__(self, stream, pre: Preprocessing) -> None:  # noqa: D107 - see class
        super().__init__()
        if not pre.channels:
            raise BadInputError(f"the model takes {pre.kind} input, not CSV lines of samples")
        self.stream, self.pre = stream, pre

    def __iter__(self) -> Iterator[Item]:
        columns = list(range(len(self.pre.channels or ())))
        for line in stream_lines(self.stream, self.stop, self.stats):
            if line.strip():
                values = parse_row(line.strip().split(","), columns, self.stats)
                if values is not None:
                    yield Item(values, False)


class NpzReplay(Source):
    """A ``.npz`` whose ``x`` holds raw windows, images or audio clips (``raw_shape``)."""

    recorded = True

    def __init__(self, path: Path, pre: Preprocessing, *, rate_hz: float) -> None:
        super().__init__()
        try:
            with np.load(path, allow_pickle=False) as data:
                self.x = data["x"]
                self.y = data["y"] if "y" in data.files else None
                self.names = [str(v) for v in data["labels"]] if "labels" in data.files else None
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            raise BadInputError(
                f"replay file {path} is not a .npz with an array x: {exc}"
            ) from None
        if tuple(self.x.shape[1:]) != pre.raw_shape or self.x.dtype.kind not in "biuf":
            raise BadInputError(
                f"replay file {path} holds {self.x.dtype} samples shaped {self.x.shape[1:]}; "
                f"the model takes numbers shaped {pre.raw_shape}"
            )
        self.rate_hz = rate_hz

    def __iter__(self) -> Iterator[Item]:
        pace = Paced(self.rate_hz, self.stop)
        for i, sample in enumerate(self.x):
            if finite(sample, self.stats, f"sample {i}") is None:
                continue
            if not pace.wait():
                return
            yield Item(sample, True, self._label(i))

    def _label(self, i: int) -> str | None:
        if self.y is None:
            return None
        value = self.y[i]
        return self.names[int(value)] if self.names is not None else str(value)


class ImageFolder(Source):
    """Images in a folder (or in class sub-folders, whose names become the true labels)."""

    recorded = True

    def __init__(self, root: Path, pre: Preprocessing) -> None:
        super().__init__()
        if pre.kind != DataKind.IMAGE:
            raise BadInputError(f"the model takes {pre.kind} input, not images")
        if not root.is_dir():
            raise BadInputError(f"image folder {root} does not exist")
        self.root, self.pre = root, pre

    def __iter__(self) -> Iterator[Item]:
        try:
            from PIL import Image
        except ImportError:
            raise MissingDependencyError(
                "reading images needs Pillow: pip install pillow"
            ) from None
        height, width, channels = self.pre.input_shape
        mode = "L" if channels == 1 else "RGB"
        files = class_folder_files(self.root, (p for p in self.root.rglob("*") if p.is_file()))
        for path in files:
            if self.stop.is_set():
                return
            try:
                with Image.open(path) as img:
                    img = img.convert(mode).resize((width, height), Image.Resampling.BILINEAR)
                    array = np.asarray(img, dtype=np.uint8).reshape(height, width, channels)
            except Exception:  # unreadable files are counted, not fatal
                self.stats.drop(f"{path} is not a readable image")
                continue
            label = path.parent.name if path.parent != self.root else None
            yield Item(array, True, label)
