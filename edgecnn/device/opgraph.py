"""The operators of a .tflite's main graph, read from the flatbuffer itself.

LiteRT's Python interpreter lists ops only through a private method
(``Interpreter._get_ops_details``). The public route is the model file: ai-edge-litert ships
the generated flatbuffer schema (``ai_edge_litert.schema_py_generated``, with the
``flatbuffers`` package it depends on). Only where that is missing (the 32-bit
``tflite_runtime`` fallback) is the private method used, and only here, so a release that
drops it breaks one module and its test (tests/device/test_opgraph.py), not four callers.
"""

from __future__ import annotations

import functools
import importlib
from types import ModuleType
from typing import Any, NamedTuple

SCHEMA_MODULE = "ai_edge_litert.schema_py_generated"


class OpDetails(NamedTuple):
    """One op of subgraph 0 in execution order (what LiteRT runs without delegates)."""

    index: int
    op_name: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]


def read_ops(model: bytes, interpreter: Any = None) -> list[OpDetails]:
    """The ops of a model already verified by constructing ``interpreter`` from it.

    Args:
        model: the .tflite bytes.
        interpreter: an interpreter made from ``model``; used only when the schema module
            is not installed.
    """
    schema = _schema()
    if schema is not None:
        return _ops_from_flatbuffer(schema, bytes(model))
    if interpreter is None:
        raise RuntimeError(f"{SCHEMA_MODULE} is not installed and no interpreter was given")
    return ops_from_interpreter(interpreter)


def ops_from_interpreter(interpreter: Any) -> list[OpDetails]:
    """The same list through the interpreter's private method (the tflite_runtime fallback)."""
    details = interpreter._get_ops_details()
    return [
        OpDetails(int(d["index"]), d["op_name"], _ints(d["inputs"]), _ints(d["outputs"]))
        for d in details
    ]


@functools.cache
def _schema() -> ModuleType | None:
    try:
        return importlib.import_module(SCHEMA_MODULE)
    except ImportError:
        return None


@functools.cache
def _builtin_names(schema: ModuleType) -> dict[int, str]:
    table = schema.BuiltinOperator
    return {value: name for name, value in vars(table).items() if not name.startswith("_")}


def _ops_from_flatbuffer(schema: ModuleType, data: bytes) -> list[OpDetails]:
    model = schema.Model.GetRootAs(data, 0)
    codes = [_op_name(schema, model.OperatorCodes(i)) for i in range(model.OperatorCodesLength())]
    graph = model.Subgraphs(0)
    ops = []
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        ops.append(
            OpDetails(i, codes[op.OpcodeIndex()], _ints(op.InputsAsNumpy()),
                      _ints(op.OutputsAsNumpy()))
        )
    return ops


def _op_name(schema: ModuleType, code: Any) -> str:
    # Codes below 127 live in the old int8 field, newer ones only in the int32 field.
    builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
    if builtin == schema.BuiltinOperator.CUSTOM:
        return (code.CustomCode() or b"").decode()
    return _builtin_names(schema).get(builtin, f"BUILTIN_{builtin}")


def _ints(values: Any) -> tuple[int, ...]:
    # InputsAsNumpy gives 0 (not an array) for an op without inputs.
    return tuple(int(v) for v in values) if not isinstance(values, int) else ()
