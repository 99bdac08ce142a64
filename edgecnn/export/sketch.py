"""Renders the files of an Arduino sketch folder from one :class:`SketchSpec`."""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from string import Template

from edgecnn.core.audiofeatures import AudioFrontEnd
from edgecnn.core.preprocess import Preprocessing
from edgecnn.device.interpreter import TensorInfo
from edgecnn.export import templates, templates_audio
from edgecnn.export.audiofrontend_c import render_audio_frontend, work_ram_bytes
from edgecnn.export.carray import c_bytes, c_float, c_string
from edgecnn.export.targets import ArduinoTarget
from edgecnn.export.templates_ino import RAW_REQUEST
from edgecnn.export.templates_readme import render_readme


@dataclass(frozen=True)
class SketchSpec:
    """Everything the generated files say about the model, the board and the memory."""

    sketch: str
    model_file: str
    sha256: str
    model: bytes
    board_id: str
    board_name: str
    ram_bytes: int
    flash_bytes: int | None
    target: ArduinoTarget
    ops: tuple[str, ...]
    methods: tuple[str, ...]
    input: TensorInfo
    output: TensorInfo
    labels: tuple[str, ...]
    preprocessing: Preprocessing | None
    raw_scale: float
    raw_offset: float
    mean: tuple[float, ...]
    std: tuple[float, ...]
    arena_bytes: int
    arena_with_margin_bytes: int
    edgecnn_version: str
    audio: AudioFrontEnd | None = None

    @property
    def input_elements(self) -> int:
        """Values per inference (the input shape without batch, multiplied out)."""
        return math.prod(self.input.shape[1:])

    @property
    def raw_elements(self) -> int:
        """Values per request line: the PCM samples of one clip, or the input values."""
        return self.audio.clip_samples if self.audio else self.input_elements

    @property
    def audio_ram_bytes(self) -> int:
        """Static RAM beyond the arena for audio: PCM clip, features, front-end buffers."""
        if self.audio is None:
            return 0
        return 2 * self.audio.clip_samples + 4 * self.input_elements + work_ram_bytes(self.audio)


def render_files(spec: SketchSpec) -> dict[str, str]:
    """File name -> text for every file of the sketch folder."""
    values = _values(spec) | _request_values(spec)
    files = {
        f"{spec.sketch}.ino": templates.SKETCH_INO.substitute(values),
        "model_data.h": templates.MODEL_DATA_H.substitute(values),
        "model_data.cpp": templates.MODEL_DATA_CPP.substitute(values),
        "model_settings.h": templates.MODEL_SETTINGS_H.substitute(values),
        "model_ops.h": templates.MODEL_OPS_H.substitute(values),
        "model_io.h": templates.MODEL_IO_H.substitute(values),
        "model_io.cpp": templates.MODEL_IO_CPP.substitute(values),
        "README.md": render_readme(spec),
    }
    if spec.audio is not None:
        banner = Template(templates.HEADER).substitute(values)
        files |= render_audio_frontend(spec.audio, banner=banner)
    return files


def _request_values(spec: SketchSpec) -> dict[str, object]:
    """The placeholders that differ between raw-value and audio models."""
    if spec.audio is None:
        request = f"{spec.input_elements} comma-separated raw values"
        return RAW_REQUEST | {
            "request": request,
            "raw_settings": "",
            "audio_io_h": "",
            "audio_io_cpp": "",
        }
    settings = templates_audio.AUDIO_SETTINGS.substitute(
        rate=spec.audio.sample_rate_hz, raw_elements=spec.raw_elements
    )
    return templates_audio.AUDIO_REQUEST | {
        "request": f"{spec.raw_elements} int16 PCM samples (one audio clip)",
        "raw_settings": settings,
        "audio_io_h": templates_audio.AUDIO_IO_H,
        "audio_io_cpp": templates_audio.AUDIO_IO_CPP,
    }


def _values(spec: SketchSpec) -> dict[str, object]:
    return {
        "model_file": spec.model_file,
        "sha256_short": spec.sha256[:16],
        "board_name": spec.board_name,
        "library_header": spec.target.header,
        "bytes": c_bytes(spec.model),
        "length": len(spec.model),
        "input_rank": len(spec.input.shape),
        "input_shape_list": ", ".join(str(d) for d in spec.input.shape),
        "input_elements": spec.input_elements,
        "input_scale": c_float(spec.input.scale),
        "input_zero_point": spec.input.zero_point,
        "num_classes": len(spec.labels),
        "output_scale": c_float(spec.output.scale),
        "output_zero_point": spec.output.zero_point,
        "labels": "\n".join(f"    {c_string(label)}," for label in spec.labels),
        "raw_scale": c_float(spec.raw_scale),
        "raw_offset": c_float(spec.raw_offset),
        "channels": len(spec.mean),
        "mean": ", ".join(c_float(v) for v in spec.mean),
        "std": ", ".join(c_float(v) for v in spec.std),
        "arena_bytes": spec.arena_bytes,
        "arena_with_margin_bytes": spec.arena_with_margin_bytes,
        "ops_comment": _comment(", ".join(spec.ops)),
        "num_ops": len(spec.ops),
        "registrations": "\n".join(
            f"  if (resolver.{method}() != kTfLiteOk) return false;" for method in spec.methods
        ),
    }


def _comment(text: str) -> str:
    """``text`` as ``//`` comment lines within the 100-column width."""
    return "\n".join(textwrap.wrap(text, 96, initial_indent="// ", subsequent_indent="// "))
