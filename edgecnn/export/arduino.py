"""``edgecnn export arduino``: a TFLite Micro Arduino sketch folder for one int8 model.

The sketch registers exactly the model's ops, sizes its tensor arena from a real TFLite Micro
allocation plus a margin (:func:`.sketchfit.arena_with_margin`), preprocesses and quantizes
raw values as training did, and reads inputs over serial. An audio model's sketch reads clips
of int16 PCM samples and carries the training front end in C++ (:mod:`.audiofrontend_c`).
The folder is built beside its destination and renamed into place, so an interrupted export
never leaves a half-written sketch.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from edgecnn import __version__
from edgecnn.core.errors import BadInputError
from edgecnn.core.manifest import Manifest, load_manifest
from edgecnn.core.preprocess import Preprocessing
from edgecnn.core.records import Record
from edgecnn.export import sketchfit
from edgecnn.export.arduino_boards import target_for
from edgecnn.export.folder import check_destination, install_folder
from edgecnn.export.sketch import render_files
from edgecnn.export.sketchspec import SketchSpec
from edgecnn.export.tflite_info import TFLiteInfo, read_tflite
from edgecnn.export.tflm_ops import resolver_methods
from edgecnn.targets.boards import Board
from edgecnn.targets.micro import check_micro


@dataclass(frozen=True)
class ArduinoExport(Record):
    """What :func:`export_arduino` wrote.

    Attributes:
        sketch_dir: the sketch folder.
        files: the file names inside it.
        ops: the builtin ops registered, each once, in first-use order.
        arena_bytes: the tensor arena TFLite Micro measured.
        arena_with_margin_bytes: the arena the sketch allocates (``kTensorArenaSize``).
        model_bytes: the .tflite size (flash).
        board: board id.
        library: the Arduino library the sketch builds with.
        ram_margin_bytes: board RAM minus the sketch's arena and audio buffers.
        flash_margin_bytes: board flash minus the model (None when the flash is unknown);
            the TFLite Micro and Arduino code need flash too.
        audio_ram_bytes: static RAM beyond the arena for an audio model's PCM clip,
            features and front-end buffers (0 for other models).
    """

    sketch_dir: str
    files: tuple[str, ...]
    ops: tuple[str, ...]
    arena_bytes: int
    arena_with_margin_bytes: int
    model_bytes: int
    board: str
    library: str
    ram_margin_bytes: int
    flash_margin_bytes: int | None
    audio_ram_bytes: int = 0


def export_arduino(
    model_path: str | os.PathLike,
    *,
    board: str,
    out: str | os.PathLike,
    sketch_name: str | None = None,
    overwrite: bool = False,
) -> ArduinoExport:
    """Writes ``out/<sketch>/`` that runs a full-integer int8 model on a microcontroller.

    Args:
        model_path: the .tflite, with its edgecnn manifest (``<name>.json``) beside it.
        board: an MCU board id (``edgecnn boards``).
        out: the folder to put the sketch folder in.
        sketch_name: the sketch (folder and .ino) name; defaults to the model file's stem.
        overwrite: replace an existing non-empty sketch folder.

    Raises:
        BadInputError: a non-MCU board, a missing, corrupt or non-int8 model, a missing
            manifest, a model TFLite Micro cannot allocate or register, an arena larger than
            the board's RAM, a model larger than its flash, or an existing sketch folder.
    """
    target_board = sketchfit.mcu_board(board)
    path = Path(model_path)
    sketch = sketchfit.sketch_name(sketch_name, path)
    dest = Path(out) / sketch
    check_destination(dest, overwrite=overwrite)
    spec = sketch_spec(path, sketch, target_board)
    files = render_files(spec)
    install_folder(files, dest, overwrite=overwrite)
    return _result(dest, tuple(sorted(files)), spec, target_board)


def sketch_spec(path: Path, sketch: str, board: Board) -> SketchSpec:
    """Everything the generated sources say, from a checked int8 model and its manifest.

    Raises:
        BadInputError: see :func:`export_arduino`.
    """
    data = _read_model_file(path)
    info = read_tflite(data, name=str(path))
    manifest = load_manifest(path)
    _require_int8(info, manifest, path)
    return _spec(sketch, path, data, info, manifest, board)


def _read_model_file(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInputError(f"cannot read model {path}: {exc.strerror}") from None
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise BadInputError(
            f"{path} is not a TFLite model (no TFL3 flatbuffer identifier); export a .tflite "
            "from edgecnn quantize"
        )
    return data


def _require_int8(info: TFLiteInfo, manifest: Manifest, path: Path) -> None:
    dtypes = (info.input.dtype, info.output.dtype)
    if dtypes != ("int8", "int8") or not info.input.quantized or not info.output.quantized:
        mode = manifest.variant.mode or "unknown variant"
        raise BadInputError(
            f"{path.name} ({mode}) has {dtypes[0]} input and {dtypes[1]} output; "
            "the Arduino export needs a full-integer int8 model with int8 input and output "
            "(edgecnn quantize RUN --mode int8 --io int)"
        )


def _spec(
    sketch: str, path: Path, data: bytes, info: TFLiteInfo, manifest: Manifest, board: Board
) -> SketchSpec:
    labels = _labels(manifest, info)
    prep = manifest.preprocessing
    _check_preprocessing_shape(prep, info)
    # load_manifest checked that an audio model's front end gives its input_shape, and that
    # is the model's (just above).
    audio = prep.audio if prep else None
    stats = (prep.mean, prep.std) if prep else (None, None)
    mean, std = _channel_stats(*stats, info.input.shape[-1])
    arena = _arena(data, path)  # before the op table: TFLM's own reason is the better one
    methods = resolver_methods(info.ops)
    spec = SketchSpec(
        sketch=sketch,
        model_file=path.name,
        sha256=manifest.sha256,
        model=data,
        board_id=board.id,
        board_name=board.name,
        ram_bytes=board.ram_bytes,
        flash_bytes=board.flash_bytes,
        target=target_for(board.id),
        ops=info.ops,
        methods=methods,
        input=info.input,
        output=info.output,
        labels=labels,
        preprocessing=prep,
        raw_scale=float(prep.scale) if prep else 1.0,
        raw_offset=float(prep.offset) if prep else 0.0,
        mean=mean,
        std=std,
        arena_bytes=arena,
        arena_with_margin_bytes=sketchfit.arena_with_margin(arena),
        edgecnn_version=__version__,
        audio=audio,
    )
    sketchfit.check_fits(arena, len(data), board, audio_ram=spec.audio_ram_bytes)
    return spec


def _labels(manifest: Manifest, info: TFLiteInfo) -> tuple[str, ...]:
    classes = math.prod(info.output.shape[1:])
    if len(manifest.labels) != classes:
        raise BadInputError(
            f"the manifest has {len(manifest.labels)} labels but the model outputs {classes} "
            "scores; the manifest does not belong to this model"
        )
    return tuple(str(label) for label in manifest.labels)


def _check_preprocessing_shape(prep: Preprocessing | None, info: TFLiteInfo) -> None:
    shape = prep.input_shape if prep else None
    if shape is not None and tuple(shape) != info.input.shape[1:]:
        raise BadInputError(
            f"the manifest's preprocessing is for input shape {tuple(shape)} but the model "
            f"takes {info.input.shape[1:]}"
        )




def _channel_stats(mean, std, channels: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std, broadcast to one shared length (1 or the channel count)."""
    sizes = {len(v) for v in (mean, std) if v is not None}
    if not sizes <= {1, channels}:
        raise BadInputError(
            f"the manifest's preprocessing has mean/std for {sorted(sizes)} channels but the "
            f"model input has {channels}"
        )
    size = max(sizes, default=1)

    def spread(values, default: float) -> tuple[float, ...]:
        values = [default] if values is None else values
        return tuple(float(v) for v in values) * (size // len(values))

    return spread(mean, 0.0), spread(std, 1.0)


def _arena(data: bytes, path: Path) -> int:
    micro = check_micro(data)
    if not micro.ok:
        raise BadInputError(f"TFLite Micro cannot run {path.name}: {micro.problem}")
    return micro.arena_bytes


def _result(dest: Path, files: tuple[str, ...], spec: SketchSpec, board: Board) -> ArduinoExport:
    flash_margin = None if board.flash_bytes is None else board.flash_bytes - len(spec.model)
    return ArduinoExport(
        sketch_dir=str(dest.resolve()),
        files=files,
        ops=spec.ops,
        arena_bytes=spec.arena_bytes,
        arena_with_margin_bytes=spec.arena_with_margin_bytes,
        model_bytes=len(spec.model),
        board=board.id,
        library=spec.target.library,
        ram_margin_bytes=board.ram_bytes - spec.arena_with_margin_bytes - spec.audio_ram_bytes,
        flash_margin_bytes=flash_margin,
        audio_ram_bytes=spec.audio_ram_bytes,
    )
