"""Models whose input has dynamic sizes (``None x None x 3``): sized before allocation.

A Keras model built with ``Input(shape=(None, None, 3))`` and converted outside edgecnn keeps
``-1`` in its input's shape signature; LiteRT then allocates it at 1x1 pixels and a conv
fails to prepare. Such a model needs a concrete ``--input-shape`` before it can run.
"""

from __future__ import annotations

from edgecnn.core.errors import BadInputError
from edgecnn.core.shapes import check_input_size, format_shape


def signature(detail: dict) -> tuple[int | None, ...]:
    """An input's sizes without the batch, None where the model leaves them dynamic."""
    sizes = detail.get("shape_signature")
    sizes = detail["shape"] if sizes is None or len(sizes) == 0 else sizes
    return tuple(None if int(s) < 0 else int(s) for s in sizes[1:])


def is_dynamic(interpreter) -> bool:
    """True when an input of ``interpreter`` has a dynamic size beyond the batch."""
    return any(None in signature(d) for d in interpreter.get_input_details())


def size_input(interpreter, input_shape: tuple[int, ...] | None) -> None:
    """Resizes a dynamic input to ``input_shape`` (batch 1); call before allocate_tensors.

    Raises:
        BadInputError: a dynamic input without ``input_shape``, an ``input_shape`` that
            does not match the model's rank or fixed sizes, or one too large to allocate.
    """
    if input_shape is not None:  # the API's tuples skip parse_shape: bound them here too
        check_input_size(tuple(input_shape))
    details = interpreter.get_input_details()
    if input_shape is None:
        for detail in details:
            if None in signature(detail):
                raise BadInputError(
                    f"the model's input shape {format_shape(signature(detail))} is dynamic: "
                    "convert it with a fixed input shape, or tell estimate and benchmark the "
                    "size to use, e.g. --input-shape 224x224x3"
                )
        return
    if len(details) != 1:
        raise BadInputError(f"--input-shape needs a single-input model; it has {len(details)}")
    sizes = signature(details[0])
    _check_fits(tuple(input_shape), sizes)
    if None in sizes:
        interpreter.resize_tensor_input(details[0]["index"], [1, *input_shape], strict=True)


def _check_fits(wanted: tuple[int, ...], sizes: tuple[int | None, ...]) -> None:
    model = format_shape(sizes)
    if None not in sizes and wanted != sizes:
        raise BadInputError(
            f"--input-shape {format_shape(wanted)}: the model's input is fixed at {model}; "
            "drop --input-shape"
        )
    choosable = len(wanted) == len(sizes) and all(
        s in (None, w) for w, s in zip(wanted, sizes, strict=True)
    )
    if not choosable:
        raise BadInputError(
            f"--input-shape {format_shape(wanted)} does not fit the model's input {model} "
            "(only the ? sizes can be chosen)"
        )
