"""The sketch's README.md: what to install, the memory budget, the serial protocol.

Rendered from one :class:`~edgecnn.export.sketchspec.SketchSpec` into
``templates/sketch/README.md.in``; an audio model's README adds its front end, its buffers
and the PCM input layout (the ``readme_audio_*`` pieces).
"""

from __future__ import annotations

import textwrap

from edgecnn.core.audiofeatures import AudioFrontEnd
from edgecnn.core.preprocess import Preprocessing
from edgecnn.export import templates
from edgecnn.export.audiofrontend_c import table_flash_bytes, work_ram_bytes
from edgecnn.export.sketchspec import SketchSpec

# The line the sketch prints per request (README.md, "Output").
OUTPUT_LINE = "label=<label> score=<score> invoke_us=<microseconds>"
AUDIO_OUTPUT_LINE = OUTPUT_LINE.replace(" invoke_us", " frontend_us=<microseconds> invoke_us")


def render_readme(spec: SketchSpec) -> str:
    """The sketch's README: what to install, the memory budget, the serial protocol."""
    target = spec.target
    values = {
        "sketch": spec.sketch,
        "model_file": spec.model_file,
        "board_name": spec.board_name,
        "edgecnn_version": spec.edgecnn_version,
        "sha256": spec.sha256,
        "num_ops": len(spec.ops),
        "core": target.core,
        "library": target.library,
        "library_header": target.header,
        "fqbn": target.fqbn or "<your board's FQBN>",
        "target_note": f"\n{target.note}\n" if target.note else "",
        "ops": ", ".join(spec.ops),
        "model_size": f"{len(spec.model):,}",
        "arena_size": f"{spec.arena_bytes:,}",
        "arena_with_margin_size": f"{spec.arena_with_margin_bytes:,}",
        "ram_size": f"{spec.ram_bytes:,}",
        "flash_size": f"{spec.flash_bytes:,}" if spec.flash_bytes is not None else "unknown",
        "input_section": _input_section(spec),
        "arena_with_margin_bytes": spec.arena_with_margin_bytes,
        "raw_elements": spec.raw_elements,
        "output_scale": repr(spec.output.scale),
        "output_zero_point": spec.output.zero_point,
        "labels": ", ".join(spec.labels),
    }
    return templates.load("sketch/README.md.in").substitute(values | _audio_values(spec))


def _audio_values(spec: SketchSpec) -> dict[str, str]:
    """The placeholders an audio model fills (empty, or the plain texts, for others)."""
    audio = spec.audio
    if audio is None:
        return {"audio_file_row": "", "audio_memory_rows": "", "unit": "values",
                "output_line": OUTPUT_LINE, "audio_output_note": ""}  # fmt: skip
    kind = "MFCC" if audio.feature == "mfcc" else "log-mel"
    note = templates.text("sketch/readme_audio_output_note.md.in")
    return {
        "audio_file_row": templates.load("sketch/readme_audio_file_row.md.in").substitute(
            kind=kind
        ),
        "audio_memory_rows": _audio_memory_rows(spec, audio),
        "unit": "int16 PCM samples",
        "output_line": AUDIO_OUTPUT_LINE,
        "audio_output_note": "\n" + note.removesuffix("\n"),  # within the paragraph
    }


def _audio_memory_rows(spec: SketchSpec, audio: AudioFrontEnd) -> str:
    return templates.load("sketch/readme_audio_memory.md.in").substitute(
        clip=f"{audio.clip_samples:,}",
        pcm_bytes=f"{2 * audio.clip_samples:,}",
        frames=audio.frames,
        bins=audio.bins,
        feature_bytes=f"{4 * spec.input_elements:,}",
        work_bytes=f"{work_ram_bytes(audio):,}",
        audio_ram_bytes=f"{spec.audio_ram_bytes:,}",
        total_ram_bytes=f"{spec.audio_ram_bytes + spec.arena_with_margin_bytes:,}",
        table_bytes=f"{table_flash_bytes(audio):,}",
    )


def _input_section(spec: SketchSpec) -> str:
    if spec.audio is not None:
        return _audio_input_section(spec, spec.audio)
    return templates.load("sketch/readme_input.md.in").substitute(
        input_elements=spec.input_elements,
        shape="x".join(str(d) for d in spec.input.shape[1:]),
        layout=_layout(spec.preprocessing, spec.input.shape),
        formula=_formula(spec),
        input_scale=repr(spec.input.scale),
        input_zero_point=spec.input.zero_point,
    )


def _audio_input_section(spec: SketchSpec, audio: AudioFrontEnd) -> str:
    kind = "MFCC" if audio.feature == "mfcc" else "log-mel"
    coefficients = f", {audio.coefficients} coefficients" if audio.feature == "mfcc" else ""
    description = (
        f"{kind} ({audio.spectrum} spectrum, {audio.fft_size}-point FFT, periodic "
        f"{audio.window_fn} window, {audio.mel_bands} mel bands {audio.lower_hz:g} to "
        f"{audio.upper_hz:g} Hz{coefficients})"
    )
    line_bytes = 6 * audio.clip_samples
    text = templates.load("sketch/readme_audio_input.md.in").substitute(
        clip=audio.clip_samples,
        rate=audio.sample_rate_hz,
        clip_ms=f"{1000 * audio.clip_samples / audio.sample_rate_hz:g}",
        description=description,
        frames=audio.frames,
        bins=audio.bins,
        hop=audio.hop_samples,
        frame=audio.frame_samples,
        formula=_formula(spec),
        input_scale=repr(spec.input.scale),
        input_zero_point=spec.input.zero_point,
        line_kb=f"{line_bytes / 1000:.0f}",
        line_seconds=f"{line_bytes * 10 / 115200:.0f}",  # 10 bits a character
    )
    return _rewrap(text)


def _rewrap(text: str) -> str:
    """The section with its paragraphs re-filled to the README's width once values are in."""
    heading, *paragraphs = text.strip("\n").split("\n\n")
    filled = [textwrap.fill(" ".join(p.split()), 92) for p in paragraphs]
    return "\n\n".join([heading, *filled]) + "\n"


def _formula(spec: SketchSpec) -> str:
    prep = spec.preprocessing
    scaled = f"r * {spec.raw_scale!r} + {spec.raw_offset!r}"
    if prep is None or (prep.mean is None and prep.std is None):
        return f"`x = {scaled}`"
    return (
        f"`x = (({scaled}) - mean[c]) / std[c]` for channel `c` with mean "
        f"{list(spec.mean)} and std {list(spec.std)}"
    )


def _layout(prep: Preprocessing | None, shape: tuple[int, ...]) -> str:
    kind = prep.kind if prep else None
    if kind == "image" and len(shape) == 4:
        mode = prep.color_mode or "the training colour mode"
        return (
            f"Send an image already at {shape[1]}x{shape[2]} pixels, {mode}, row by row, "
            "with the pixel values as training read them (before the scale below)."
        )
    if kind == "sensor":
        channels = ", ".join(prep.channels or []) or "the training channels"
        rate = prep.sample_rate_hz
        rate_text = f" sampled at {rate:g} Hz" if rate else ""
        return (
            f"Send one window of {shape[1]} time steps{rate_text}, oldest first, each step "
            f"holding the channels {channels} in that order."
        )
    return "Send the values in the order of the training arrays."
