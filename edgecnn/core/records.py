"""One route between records (dataclasses) and JSON-ready dicts, both ways.

``to_dict`` writes every field: nested records by their own ``to_dict``, enums as their
values, tuples as lists, paths as text, numpy scalars and arrays as Python numbers and
lists. ``from_dict`` reads that back through the fields' type hints (enums, nested records,
tuples, dict values, paths). Records inherit both from :class:`Record`; one that writes
something else on purpose overrides it. A field made with ``field(metadata=NOT_WRITTEN)``
(working data such as per-sample predictions) is left out.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from enum import Enum
from pathlib import Path, PurePath
from typing import Any, TypeVar

R = TypeVar("R")


def to_json(value: Any) -> Any:
    """``value`` as plain JSON types (dicts, lists, str, numbers, bool, None)."""
    if isinstance(value, type):
        return value
    own = getattr(value, "to_dict", None)
    if callable(own):  # a record, or any object that says how it is written
        return own()
    if dataclasses.is_dataclass(value):
        return to_dict(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return value.tolist()  # a numpy scalar or array: the Python numbers json can write
    return value


NOT_WRITTEN = {"written": False}


def to_dict(record: Any) -> dict[str, Any]:
    """Every field of a dataclass instance (but NOT_WRITTEN ones), in order, as JSON types."""
    return {
        f.name: to_json(getattr(record, f.name))
        for f in dataclasses.fields(record)
        if f.metadata.get("written", True)
    }


def from_dict(cls: type[R], data: dict[str, Any]) -> R:
    """A ``cls`` from :func:`to_dict` output, each value converted by its field's type.

    Raises:
        TypeError: ``data`` is not a mapping, or has unknown or missing keys.
        ValueError: a value an enum field does not know.
    """
    if not isinstance(data, dict):
        raise TypeError(f"{cls.__name__} must be a JSON object, got {data!r:.40}")
    hints = _hints(cls)
    return cls(**{k: from_json(hints.get(k), v) for k, v in data.items()})


def from_json(hint: Any, value: Any) -> Any:
    """``value`` read as type ``hint`` (None: as it is)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if value is None or hint is None or hint is Any:
        return value
    if origin in (types.UnionType, typing.Union):
        kinds = [a for a in args if a is not type(None)]
        return from_json(kinds[0], value) if len(kinds) == 1 else value
    if origin is tuple and isinstance(value, list | tuple):
        item = args[0] if args else None
        if len(args) != 2 or args[1] is not Ellipsis:  # a fixed-length tuple
            return tuple(from_json(a, v) for a, v in zip(args, value, strict=False))
        return tuple(from_json(item, v) for v in value)
    if origin is dict and isinstance(value, dict) and len(args) == 2:
        return {k: from_json(args[1], v) for k, v in value.items()}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        own = getattr(hint, "from_dict", None)
        return own(value) if own is not None else from_dict(hint, value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    if hint is Path:
        return Path(value)
    return value


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """The field types of ``cls``; none when an annotation names a type-checking import."""
    try:
        return typing.get_type_hints(cls)
    except NameError:
        return {}


class Record:
    """A mixin for dataclasses: ``to_dict`` and ``from_dict`` by the shared route."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return to_dict(self)

    @classmethod
    def from_dict(cls: type[R], data: dict[str, Any]) -> R:
        """Builds the record from :meth:`to_dict` output (read back from a file)."""
        return from_dict(cls, data)
