"""A tiny document model rendered twice: Markdown (images linked) and self-contained HTML
(images embedded as data URIs, no scripts, no external files).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    highlight: int | None = None  # index of a row to emphasise


@dataclass(frozen=True)
class Image:
    path: Path
    alt: str


@dataclass(frozen=True)
class Code:
    text: str


Block = Para | Bullets | Table | Image | Code
Section = tuple[str, Sequence[Block]]

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; }
th { background: #f2f2f2; }
tr.chosen td { background: #fde8e8; font-weight: 600; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; }
"""


def to_markdown(title: str, sections: Sequence[Section], *, relative_to: Path) -> str:
    """Markdown with images linked relative to the report's folder."""
    out = [f"# {title}", ""]
    for heading, blocks in sections:
        out += [f"## {heading}", ""]
        for block in blocks:
            out += _md_block(block, relative_to) + [""]
    return "\n".join(out)


def _md_block(block: Block, base: Path) -> list[str]:
    if isinstance(block, Para):
        return [block.text]
    if isinstance(block, Bullets):
        return [f"- {item}" for item in block.items]
    if isinstance(block, Table):
        rows = [
            tuple(f"**{c}**" if i == block.highlight and c else c for c in row)
            for i, row in enumerate(block.rows)
        ]
        lines = [_md_row(block.header), _md_row(tuple("---" for _ in block.header))]
        return lines + [_md_row(row) for row in rows]
    if isinstance(block, Image):
        return [f"![{block.alt}]({block.path.relative_to(base).as_posix()})"]
    return ["```", block.text, "```"]


def _md_row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def to_html(title: str, sections: Sequence[Section]) -> str:
    """One HTML file holding everything, images included."""
    body = [f"<h1>{html.escape(title)}</h1>"]
    for heading, blocks in sections:
        body.append(f"<h2>{html.escape(heading)}</h2>")
        body += [_html_block(block) for block in blocks]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _html_block(block: Block) -> str:
    if isinstance(block, Para):
        return f"<p>{html.escape(block.text)}</p>"
    if isinstance(block, Bullets):
        items = "".join(f"<li>{html.escape(i)}</li>" for i in block.items)
        return f"<ul>{items}</ul>"
    if isinstance(block, Table):
        head = "".join(f"<th>{html.escape(c)}</th>" for c in block.header)
        rows = [
            f"<tr{' class=chosen' if i == block.highlight else ''}>"
            + "".join(f"<td>{html.escape(c)}</td>" for c in row)
            + "</tr>"
            for i, row in enumerate(block.rows)
        ]
        return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    if isinstance(block, Image):
        data = base64.b64encode(block.path.read_bytes()).decode("ascii")
        alt = html.escape(block.alt, quote=True)
        return f'<p><img src="data:image/png;base64,{data}" alt="{alt}"></p>'
    return f"<pre>{html.escape(block.text)}</pre>"
