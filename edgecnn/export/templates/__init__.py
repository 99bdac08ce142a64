"""The templates of the generated sources, as files beside this module, and their loader.

``sketch/`` holds the Arduino sketch (``$header`` opens each of its source files; the pieces
named ``audio_*`` and ``readme_audio_*`` are an audio model's only), ``frontend/`` the audio
front end in C++, ``firmware/`` the bare-metal build around the sketch. They are
``string.Template`` texts (C++ has no ``$``; the Makefile writes its own as ``$$``), read
as UTF-8, byte for byte: a file's last newline is part of its text.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Template


@cache
def text(name: str) -> str:
    """The text of template ``name`` (e.g. ``"sketch/model_io.h.in"``), as stored."""
    where = resources.files(__name__)
    for part in name.split("/"):  # one step at a time: any package reader takes that
        where = where / part
    return where.read_bytes().decode("utf-8")  # bytes: no newline translation


@cache
def load(name: str) -> Template:
    """Template ``name``, ready to ``substitute``."""
    return Template(text(name))
