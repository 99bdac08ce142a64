"""Click options that several verbs share, written once so they read the same everywhere.

Each function returns a decorator, as ``click.option`` does. The verbs keep their own help
texts where they differ; what is shared is the name, the type and the shown default.
Only click is imported here: ``edgecnn --help`` must stay fast.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import click

JSON_TABLE_HELP = "Print JSON instead of a table."
JSON_RESULT_HELP = "Print the result as JSON on stdout."

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def json_option(help_text: str = JSON_RESULT_HELP) -> Decorator:
    """``--json``, passed to the command as ``as_json``."""
    return click.option("--json", "as_json", is_flag=True, help=help_text)


def shown_option(*decls: str, **attrs: Any) -> Decorator:
    """A ``click.option`` whose default ``--help`` shows."""
    return click.option(*decls, show_default=True, **attrs)


def choice_option(*decls: str, choices: Sequence[str], **attrs: Any) -> Decorator:
    """A closed choice with its default shown."""
    return shown_option(*decls, type=click.Choice(choices), **attrs)


def threads_option(help_text: str) -> Decorator:
    """``--threads``: interpreter threads, at least one."""
    return click.option("--threads", type=click.IntRange(min=1), help=help_text)


def board_option(help_text: str, *, dest: str = "boards", required: bool = False) -> Decorator:
    """``--board``, repeatable: the target board ids, as the tuple ``dest``."""
    return click.option("--board", dest, multiple=True, required=required, help=help_text)


def out_folder_option(help_text: str, *, required: bool = False) -> Decorator:
    """``--out``: a folder to write into (a file there is refused)."""
    return click.option(
        "--out", type=click.Path(file_okay=False), required=required, help=help_text
    )


def word_list(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[str, ...] | None:
    """Click callback: ``yes,no,up`` -> ("yes", "no", "up"), case kept (folder names are
    case-sensitive); the words must be distinct and non-empty. None stays None (the default)."""
    if value is None:
        return None
    from edgecnn.core.shapes import parse_list

    words = parse_list(value, keep_empty=True)
    if not all(words) or len(set(words)) != len(words):
        raise click.BadParameter(f"{value!r} must be distinct comma-separated words")
    return words
