"""Renders the files of an Arduino sketch folder from one :class:`SketchSpec`.

The texts are the files under ``templates/sketch/``; an audio model's sketch fills their
request placeholders with the ``audio_*`` pieces and gains the C++ front end.
"""

from __future__ import annotations

import textwrap

from edgecnn.export import templates
from edgecnn.export.audiofrontend_c import render_audio_frontend
from edgecnn.export.carray import c_bytes, c_float, c_string
from edgecnn.export.sketch_readme import render_readme
from edgecnn.export.sketchspec import SketchSpec

# The sketch's file -> its template; each starts with the shared ``$header``.
FILES = {
    "model_data.h": "sketch/model_data.h.in",
    "model_data.cpp": "sketch/model_data.cpp.in",
    "model_settings.h": "sketch/model_settings.h.in",
    "model_ops.h": "sketch/model_ops.h.in",
    "model_io.h": "sketch/model_io.h.in",
    "model_io.cpp": "sketch/model_io.cpp.in",
}

# sketch.ino.in's request placeholders for models fed raw values (images, sensor windows):
# comma-separated values, preprocessed and quantized into the input tensor as they arrive.
RAW_REQUEST = {
    "audio_include": "",
    "audio_buffers": "",
    "request_count": "kInputElements",
    "request_unit": "comma-separated values",
    "front_end_step": "",
    "front_end_print": "",
    "bad_value": "a value is not a number; send numbers separated by commas",
    "line_feed": "CsvLineFeed(&csv_line, c, input_data, kInputElements)",
}

# The same for audio models: a line is one clip of PCM samples for the front end.
AUDIO_REQUEST = {
    "audio_include": '#include "audio_frontend.h"\n',
    "request_count": "kRawElements",
    "request_unit": "comma-separated int16 PCM samples",
    "bad_value": "a value is not an int16 PCM sample, an integer from -32768 to 32767",
    "line_feed": "PcmLineFeed(&csv_line, c, pcm, kRawElements)",
}


def render_files(spec: SketchSpec) -> dict[str, str]:
    """File name -> text for every file of the sketch folder."""
    values = _values(spec)
    values["header"] = templates.load("sketch/header.in").substitute(values)
    values |= _request_values(spec)
    files = {f"{spec.sketch}.ino": templates.load("sketch/sketch.ino.in").substitute(values)}
    files |= {name: templates.load(template).substitute(values) for name, template in FILES.items()}
    files["model_io.cpp"] += values["audio_io_cpp"]  # the audio helpers end the file
    files["README.md"] = render_readme(spec)
    if spec.audio is not None:
        files |= render_audio_frontend(spec.audio, banner=values["header"])
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
    settings = templates.load("sketch/audio_settings.h.in").substitute(
        rate=spec.audio.sample_rate_hz, raw_elements=spec.raw_elements
    )
    return AUDIO_REQUEST | {
        "audio_buffers": templates.text("sketch/audio_buffers.ino.in"),
        "front_end_step": templates.text("sketch/audio_front_end_step.ino.in"),
        "front_end_print": templates.text("sketch/audio_front_end_print.ino.in"),
        "request": f"{spec.raw_elements} int16 PCM samples (one audio clip)",
        "raw_settings": settings,
        "audio_io_h": templates.text("sketch/audio_io.h.in"),
        "audio_io_cpp": templates.text("sketch/audio_io.cpp.in"),
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
