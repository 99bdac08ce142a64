"""``edgecnn pipeline``: a config that is not UTF-8 or an --out folder that cannot be written
is one line and exit 2, before any training."""

from click.testing import CliRunner

from edgecnn.cli import cli

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
