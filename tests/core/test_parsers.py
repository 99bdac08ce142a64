"""The one shape parser and the one comma-list parser, from every entry point."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from edgecnn.cli import cli
from edgecnn.core.errors import BadInputError
from edgecnn.core.shapes import SHAPE_HELP, parse_list, parse_shape
from edgecnn.optimize.quantize import parse_modes
from edgecnn.pipeline.config import load_config, parse_config, parse_flags
from edgecnn.training.data.sources import DataOptions


@pytest.mark.parametrize(
    "value",
    ["32x32x3", "32,32,3", " 32 X 32 , 3 ", [32, 32, 3], (32, 32, 3), ["32", "32", "3"],
     np.array([32, 32, 3]).tolist(), (np.int64(32), 32, 3)],
)  # fmt: skip
def test_every_spelling_of_a_shape_is_the_same_tuple(value):
    assert parse_shape(value) == (32, 32, 3)


@pytest.mark.parametrize(
    "value",
    ["32xx", "", "0x4", "-1,2", "8.7", "²x2", "1x2x3x4", [8, 8.7], [True, 2], [], None, 32],
)
def test_a_bad_shape_is_refused_with_the_one_message(value):
    with pytest.raises(BadInputError) as info:
        parse_shape(value)
    assert str(info.value) == f"not an input shape: {value!r}; {SHAPE_HELP}"


def test_shape_in_the_pipeline_config_file_flags_and_python_api(tmp_path):
    path = tmp_path / "edgecnn.toml"
    path.write_text('data = "x.csv"\ninput_shape = "32,32,3"\n')
    assert load_config(path).input_shape == (32, 32, 3)
    path.write_text('data = "x.csv"\ninput_shape = [32, 32, 3]\n')
    assert load_config(path).input_shape == (32, 32, 3)
    assert parse_flags({"data": "x.csv", "input_shape": "32,32,3"}).input_shape == (32, 32, 3)
    assert parse_config({"data": "x.csv", "input_shape": "32x32x3"}).input_shape == (32, 32, 3)
    assert DataOptions(input_shape="32,32,3").input_shape == (32, 32, 3)


def test_a_bad_shape_in_the_config_names_where_it_was_set(tmp_path):
    path = tmp_path / "edgecnn.toml"
    path.write_text('data = "x.csv"\ninput_shape = "32,,3"\n')
    with pytest.raises(BadInputError, match=r"edgecnn.toml, line 2: not an input shape"):
        load_config(path)
    with pytest.raises(BadInputError, match="--input-shape: not an input shape: '3x'"):
        parse_flags({"data": "x.csv", "input_shape": "3x"})


def test_the_pipeline_command_accepts_a_comma_shape(tmp_path):
    # Refused for an unrelated reason after the shape was read: no such data file.
    args = ["pipeline", "--data", str(tmp_path / "none.csv"), "--input-shape", "32,32,3"]
    result = CliRunner().invoke(cli, args)
    assert "input shape" not in result.output + result.stderr
    result = CliRunner().invoke(cli, [*args[:-1], "32;32"])
    assert result.exit_code == 2 and "not an input shape: '32;32'" in result.stderr


def test_the_train_command_refuses_a_bad_shape_with_the_same_message(tmp_path):
    result = CliRunner().invoke(cli, ["train", "--data", "x", "--input-shape", "32xx"])
    assert result.exit_code == 2 and "not an input shape: '32xx'" in result.stderr


@pytest.mark.parametrize(
    "value, items",
    [
        ("a,b", ("a", "b")),
        (" a , b ,", ("a", "b")),
        (["a,b", "c"], ("a", "b", "c")),
        (("a",), ("a",)),
        ("", ()),
        (None, ()),
    ],
)
def test_comma_lists(value, items):
    assert parse_list(value) == items


def test_comma_lists_can_keep_empty_items_for_callers_that_refuse_them():
    assert parse_list("a,,b ", keep_empty=True) == ("a", "", "b")


def test_modes_read_as_one_list_from_flags_and_python():
    assert parse_modes(["int8, fp32", "int8"]) == parse_modes("int8,fp32") == ["int8", "fp32"]
    with pytest.raises(BadInputError, match="unknown mode 'int4'"):
        parse_modes("int8,int4")


def test_a_shape_over_the_input_bound_is_refused_naming_the_bound():
    """One bound for summary, estimate and benchmark (summary had its own before)."""
    from edgecnn.core.shapes import MAX_INPUT_VALUES, check_input_size

    check_input_size((2048, 2048, 1))
    with pytest.raises(BadInputError) as info:
        check_input_size((20000, 20000, 3))
    message = str(info.value)
    assert "20000x20000x3" in message and "1,200,000,000 values" in message
    assert f"at most {MAX_INPUT_VALUES:,}" in message
