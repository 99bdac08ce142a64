"""``edgecnn.device.service.write_unit``: systemd units for ``edgecnn run``, never in /etc."""

import configparser
import os
import shlex
import sys
from pathlib import Path

import pytest

from edgecnn.core import fileio
from edgecnn.core.errors import BadInputError
from edgecnn.device import service


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "models" / "gesture int8.tflite"
    path.parent.mkdir()
    path.write_bytes(b"tflite")
    path.with_suffix(".json").write_text("{}")
    return path


def parse(text):
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(text)
    return parser


def exec_argv(line):
    """What systemd would run: undo the %/$ doubling, then split like a shell."""
    return shlex.split(line.replace("%%", "%").replace("$$", "$"))


RUN_ARGS = ["--source", "serial:/dev/ttyACM0?baud=115200", "--sink", "jsonl:out dir/r.jsonl",
            "--threshold", "0.6", "--name", "it's 100% $HOME"]


def test_user_unit_parses_and_its_command_round_trips(model, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    result = service.write_unit(model, RUN_ARGS, user=True)
    assert result.name == "edgecnn-gesture-int8"
    assert result.path == tmp_path / "home/.config/systemd/user/edgecnn-gesture-int8.service"
    unit = parse(result.path.read_text())
    assert set(unit.sections()) == {"Unit", "Service", "Install"}
    argv = exec_argv(unit["Service"]["ExecStart"])
    assert Path(argv[0]).is_absolute() and argv[0].startswith(str(Path(sys.executable).parent))
    assert argv[argv.index("run") + 1] == str(model)
    assert argv[argv.index("run") + 2 :] == RUN_ARGS
    assert unit["Service"]["Restart"] == "on-failure"
    assert unit["Service"]["RestartSec"] == "5"
    assert unit["Service"]["Environment"] == "PYTHONUNBUFFERED=1"
    assert unit["Service"]["WorkingDirectory"] == str(tmp_path)
    assert "User" not in unit["Service"]
    assert unit["Install"]["WantedBy"] == "default.target"
    enable = "systemctl --user daemon-reload && systemctl --user enable --now edgecnn-gesture-int8"
    assert enable in result.next_steps


def test_system_unit_goes_to_out_with_user_and_multi_user_target(model, tmp_path, monkeypatch):
    monkeypatch.setenv("SUDO_USER", "pi")
    out = tmp_path / "units"
    result = service.write_unit(model, ["--source", "stdin"], user=False, name="gest", out=out)
    assert result.path == out / "gest.service"
    unit = parse(result.path.read_text())
    assert unit["Service"]["User"] == "pi"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    assert result.next_steps[0] == f"sudo cp {result.path} /etc/systemd/system/"
    assert "sudo systemctl daemon-reload && sudo systemctl enable --now gest" in result.next_steps
    assert not (service.SYSTEM_UNIT_DIR / "gest.service").exists()


def test_out_may_name_the_file_and_the_write_is_atomic(model, tmp_path, monkeypatch):
    target = tmp_path / "my.service"
    target.write_text("old")
    written = []
    real = fileio.write_text
    monkeypatch.setattr(fileio, "write_text", lambda p, t: (written.append(p), real(p, t)))
    result = service.write_unit(model, ["--source", "stdin"], user=True, out=target)
    assert result.path == target and written == [target]
    assert target.read_text() == result.text
    assert sorted(os.listdir(tmp_path)) == ["models", "my.service"]  # no temp file left


def test_refuses_a_missing_model_or_manifest_and_bad_names(model, tmp_path):
    with pytest.raises(BadInputError, match="does not exist"):
        service.write_unit(tmp_path / "nope.tflite", [], user=True, out=tmp_path)
    model.with_suffix(".json").unlink()
    with pytest.raises(BadInputError, match="no manifest"):
        service.write_unit(model, [], user=True, out=tmp_path)
    model.with_suffix(".json").write_text("{}")
    with pytest.raises(BadInputError, match="unit name"):
        service.write_unit(model, [], user=True, name="a/b", out=tmp_path)
    with pytest.raises(BadInputError, match="backslash"):
        service.write_unit(model, ["--source", "dir:C:\\x"], user=True, out=tmp_path)


def test_an_unwritable_unit_folder_is_bad_input_not_a_crash(model, tmp_path, monkeypatch):
    def denied(path, text):
        raise PermissionError(path)

    monkeypatch.setattr(fileio, "write_text", denied)
    with pytest.raises(BadInputError, match="--out"):
        service.write_unit(model, [], user=False)
