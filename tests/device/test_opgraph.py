"""Reading a .tflite's ops from the flatbuffer gives what LiteRT's interpreter reports.

The interpreter route is a private LiteRT method kept for the tflite_runtime fallback: if a
new ai-edge-litert drops or changes it, the first test here fails and names it.
"""


import pytest

from edgecnn.core.nativeio import quiet_native_stderr
from edgecnn.device import opgraph
from edgecnn.device.interpreter import interpreter_class, without_delegates
from tests.testkit import FIXTURES

MODELS = sorted(FIXTURES.glob("*.tflite"))
# tests/targets/test_estimate.py checks the two routes agree on every zoo family, fp32 and int8.


def interpreter_for(data: bytes):
    with quiet_native_stderr():
        interpreter = interpreter_class()(model_content=data, **without_delegates())
    interpreter.allocate_tensors()
    return interpreter


def test_the_private_interpreter_route_still_exists():
    interpreter = interpreter_for(MODELS[0].read_bytes())
    assert hasattr(interpreter, "_get_ops_details"), "LiteRT dropped Interpreter._get_ops_details"
    ops = opgraph.ops_from_interpreter(interpreter)
    assert ops and {"index", "op_name", "inputs", "outputs"} <= set(
        interpreter._get_ops_details()[0]
    )


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
def test_flatbuffer_and_interpreter_agree_on_fixture_models(path):
    data = path.read_bytes()
    from_file = opgraph.read_ops(data)
    assert from_file == opgraph.ops_from_interpreter(interpreter_for(data))
    assert {op.op_name for op in from_file} & {"CONV_2D", "FULLY_CONNECTED"}


def test_without_the_schema_module_the_interpreter_is_used(monkeypatch):
    data = MODELS[0].read_bytes()
    monkeypatch.setattr(opgraph, "_schema", lambda: None)
    interpreter = interpreter_for(data)
    assert opgraph.read_ops(data, interpreter) == opgraph.ops_from_interpreter(interpreter)
    with pytest.raises(RuntimeError, match="schema_py_generated is not installed"):
        opgraph.read_ops(data)
