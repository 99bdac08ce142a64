"""``edgecnn pipeline``: a config that is not UTF-8 or an --out folder that cannot be written
is one line and exit 2, before any training; config errors name the offending line."""

import pytest
from click.testing import CliRunner

from edgecnn.cli import cli
from edgecnn.core.errors import BadInputError
from edgecnn.pipeline.config import load_config

CONFIG = 'data = "builtin:digits"\nmodel = "lenet5"\nmodes = ["fp32"]\n'


def one_line_exit_2(args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.stderr.startswith("edgecnn: error: ") and result.stderr.count("\n") == 1
    return result.stderr


def test_a_config_that_is_not_utf8_is_one_line_naming_the_line(tmp_path):
    path = tmp_path / "edgecnn.toml"
    path.write_bytes(CONFIG.encode() + b'# caf\xe9 latin-1\n')
    message = one_line_exit_2(["pipeline", "--config", path, "--out", tmp_path / "p"])
    assert f"config {path} is not UTF-8 text: byte 0xe9 on line 4" in message


def test_an_out_folder_that_cannot_be_made_is_one_line_naming_it(tmp_path):
    path = tmp_path / "edgecnn.toml"
    path.write_text(CONFIG)
    # /sys refuses new folders even to root: a real read-only place on any Linux.
    out = "/sys/edgecnn-test-out/pipeline"
    message = one_line_exit_2(["pipeline", "--config", path, "--out", out])
    assert f"--out {out}: cannot write in {out} (" in message
    assert not (tmp_path / "runs").exists()


BUDGETS = """data = "builtin:digits"
model = "vgg_tiny"
boards = ["rpi-4b"]

[budgets]
max_latency_ms = 5
max_size_kb = 100

[budgets.rpi-4b]
max_size_kb = 50
max_latency_ms = -1
"""


def test_a_bad_board_budget_names_its_own_line_not_the_general_budgets_one(tmp_path):
    path = tmp_path / "edgecnn.toml"
    path.write_text(BUDGETS)
    with pytest.raises(BadInputError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}, line 11: budget max_latency_ms must not be")
    path.write_text(BUDGETS.replace("max_latency_ms = -1", "max_arena_kb = 1\nmax_flash = 2"))
    with pytest.raises(BadInputError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}, line 12: unknown key 'max_flash' in [budgets.")
