"""A folder with one sub-folder of images per class."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgecnn.core import optional
from edgecnn.core.errors import DataError
from edgecnn.core.preprocess import DataKind
from edgecnn.training.data.dataset import RawDataset

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp"}
# Files operating systems drop into folders; they are not data.
IGNORED_NAMES = {"thumbs.db", "desktop.ini"}
COLOR_MODES = {1: ("grayscale", "L"), 3: ("rgb", "RGB")}


def load_image_folder(root: Path, *, input_shape: tuple[int, ...] | None = None) -> RawDataset:
    """Loads ``root/<class>/<image>`` into uint8 arrays resized to the input shape.

    Args:
        root: the folder; each sub-folder is one class, named after it.
        input_shape: ``(height, width, channels)`` with 1 (grayscale) or 3 (RGB) channels;
            when None, the first image's size and colour decide.

    Raises:
        DataError: no class folders, a class folder without images, a file that is not an
            image, or an input shape that is not HxWx1 or HxWx3.
    """
    image_module = optional.require("PIL.Image", extra="train", package="pillow")
    classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise DataError(
            f"{root}: found {len(classes)} class folder(s); put each class's images in its "
            "own sub-folder (at least 2)"
        )
    files = {cls.name: _image_files(cls) for cls in classes}
    shape = input_shape or _shape_of_first(image_module, next(iter(files.values()))[0])
    height, width, mode = _target(shape)
    x, y = [], []
    for index, cls in enumerate(classes):
        for path in files[cls.name]:
            x.append(_read(image_module, path, (width, height), mode))
            y.append(index)
    return RawDataset(
        x=np.stack(x),
        y=np.asarray(y, dtype=np.int64),
        labels=tuple(cls.name for cls in classes),
        kind=DataKind.IMAGE,
        source=str(root),
        scale=1.0 / 255.0,
        info={"color_mode": COLOR_MODES[shape[2]][0], "resize": "bilinear"},
    )


def _image_files(folder: Path) -> list[Path]:
    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.name.lower() not in IGNORED_NAMES
    )
    if not files:
        raise DataError(f"class folder {folder} has no images (PNG, JPEG or BMP expected)")
    return files


def _target(shape: tuple[int, ...]) -> tuple[int, int, str]:
    if len(shape) != 3 or shape[2] not in COLOR_MODES:
        raise DataError(
            f"input shape {shape} does not fit images; give HxWx1 (grayscale) or HxWx3 (RGB)"
        )
    return shape[0], shape[1], COLOR_MODES[shape[2]][1]


def _shape_of_first(image_module, path: Path) -> tuple[int, int, int]:
    with _open(image_module, path) as img:
        channels = 1 if img.mode in ("L", "1", "I", "I;16", "F") else 3
        return img.height, img.width, channels


def _read(image_module, path: Path, size: tuple[int, int], mode: str) -> np.ndarray:
    with _open(image_module, path) as img:
        converted = img.convert(mode)
        if converted.size != size:
            converted = converted.resize(size, image_module.Resampling.BILINEAR)
        array = np.asarray(converted, dtype=np.uint8)
    return array[..., np.newaxis] if array.ndim == 2 else array


def _open(image_module, path: Path):
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise DataError(f"{path} is not an image file (PNG, JPEG or BMP expected)")
    try:
        img = image_module.open(path)
        img.load()
    except Exception as exc:  # Pillow raises many types for broken files
        raise DataError(f"{path} could not be read as an image: {exc}") from None
    return img
