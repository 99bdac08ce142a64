"""The code templates are files under edgecnn/export/templates/, each one used."""

from __future__ import annotations

import re
from pathlib import Path

from edgecnn.export import templates

EXPORT = Path(templates.__file__).resolve().parent.parent


def template_names() -> set[str]:
    folder = EXPORT / "templates"
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*.in")}


def test_every_template_file_is_named_by_the_generator():
    code = "\n".join(p.read_text(encoding="utf-8") for p in EXPORT.glob("*.py"))
    named = set(re.findall(r'"((?:sketch|frontend|firmware)/[\w.]+\.in)"', code))
    assert named == template_names()


def test_templates_load_as_stored_and_are_cached():
    raw = (EXPORT / "templates" / "firmware" / "Makefile.in").read_bytes().decode("utf-8")
    assert templates.text("firmware/Makefile.in") == raw and "\t" in raw
    assert templates.load("firmware/Makefile.in") is templates.load("firmware/Makefile.in")
