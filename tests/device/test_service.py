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


def test_passwords_go_to_a_0600_environment_file_never_into_the_unit(model, tmp_path, monkeypatch):
    monkeypatch.delenv("EDGECNN_MQTT_PASSWORD", raising=False)
    out = tmp_path / "units"
    args = ["--source", "stdin", "--sink", 'mqtt://pi:pa$s"w\\d@broker:1883/imu?tls=1',
            "--sink=mqtt://broker/alerts?username=pi&password=pa$s\"w\\d", "--smooth", "3"]
    result = service.write_unit(model, args, user=True, name="gest", out=out)
    unit_text = result.path.read_text()
    assert "pa$s" not in unit_text and "pa$$s" not in unit_text
    env_file = out / "gest.env"
    assert env_file.stat().st_mode & 0o777 == 0o600
    assert env_file.read_text() == 'EDGECNN_MQTT_PASSWORD="pa\\$s\\"w\\\\d"\n'
    unit = parse(unit_text)
    installed = Path(os.environ["HOME"]) / ".config/systemd/user/gest.env"
    if os.environ.get("XDG_CONFIG_HOME"):
        installed = Path(os.environ["XDG_CONFIG_HOME"]) / "systemd/user/gest.env"
    assert unit["Service"]["EnvironmentFile"] == str(installed)
    argv = exec_argv(unit["Service"]["ExecStart"])
    assert argv[argv.index("run") + 2 :] == [
        "--source", "stdin", "--sink", "mqtt://pi@broker:1883/imu?tls=1",
        "--sink=mqtt://broker/alerts?username=pi", "--smooth", "3",
    ]
    assert f"install -m 600 {env_file} {installed.parent}/" in result.next_steps


def test_a_password_from_the_installers_environment_is_kept_out_of_the_unit_too(
    model, tmp_path, monkeypatch
):
    monkeypatch.setenv("EDGECNN_MQTT_PASSWORD", "s3cret")
    result = service.write_unit(
        model, ["--source", "stdin", "--sink", "mqtt://pi@broker/t"], user=False, out=tmp_path
    )
    assert "s3cret" not in result.path.read_text()
    env_file = result.path.with_suffix(".env")
    assert env_file.read_text() == 'EDGECNN_MQTT_PASSWORD="s3cret"\n'
    installed = f"/etc/systemd/system/{env_file.name}"
    assert parse(result.text)["Service"]["EnvironmentFile"] == installed


def test_no_password_no_environment_file(model, tmp_path, monkeypatch):
    monkeypatch.delenv("EDGECNN_MQTT_PASSWORD", raising=False)
    result = service.write_unit(
        model, ["--source", "stdin", "--sink", "mqtt://broker/t"], user=True, out=tmp_path
    )
    assert "EnvironmentFile" not in result.text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["edgecnn-gesture-int8.service", "models"]


def test_two_different_passwords_for_one_kind_of_sink_are_refused(model, tmp_path):
    args = ["--source", "stdin", "--sink", "mqtt://a:x@h/t", "--sink", "mqtt://a:y@h/u"]
    with pytest.raises(BadInputError, match="different passwords"):
        service.write_unit(model, args, user=True, out=tmp_path)
    assert not list(tmp_path.glob("*.service"))


def test_an_http_sink_password_goes_to_its_own_variable(model, tmp_path, monkeypatch):
    monkeypatch.delenv("EDGECNN_HTTP_PASSWORD", raising=False)
    args = ["--source", "stdin", "--sink", "https://pi:t0k@example.org/in?spool=/var/x"]
    result = service.write_unit(model, args, user=True, name="h", out=tmp_path)
    assert "t0k" not in result.text
    assert exec_argv(parse(result.text)["Service"]["ExecStart"])[-1] == (
        "https://pi@example.org/in?spool=/var/x"
    )
    assert (tmp_path / "h.env").read_text() == 'EDGECNN_HTTP_PASSWORD="t0k"\n'


@pytest.mark.parametrize("key", ["token", "api_key", "access_token", "sig", "X-Auth"])
def test_secret_query_values_go_to_the_0600_environment_file(model, tmp_path, monkeypatch, key):
    """Old: ``?token=T`` landed in the 0644 unit's ExecStart, with no environment file."""
    from edgecnn.device.io.sinkaddr import parse_address

    sink = f"http://h/ok?{key}=T%2F0P+S3CR3T&device=a&{key}2=other"
    args = ["--source", "stdin", "--sink", sink, "--sink", "http://h/b?token=OTHER"]
    result = service.write_unit(model, args, user=True, name="s", out=tmp_path)
    assert "S3CR3T" not in result.text and "OTHER" not in result.text
    env_file = tmp_path / "s.env"
    assert env_file.stat().st_mode & 0o777 == 0o600
    assert "T/0P S3CR3T" in env_file.read_text() and "OTHER" in env_file.read_text()
    # What the service runs reads the values back: the same destination, the same spool.
    for name, value in (line.split("=", 1) for line in env_file.read_text().splitlines()):
        monkeypatch.setenv(name, value.strip('"'))
    argv = exec_argv(parse(result.text)["Service"]["ExecStart"])
    installed = parse_address(argv[argv.index("--sink") + 1])
    assert installed.identity() == parse_address(sink).identity()
    assert installed.request_url() == parse_address(sink).request_url()
    assert parse_address(argv[-1]).options["token"] == "OTHER"


def test_a_percent_encoded_password_is_stored_decoded(model, tmp_path, monkeypatch):
    """Old: ``p%40ss`` went to the environment file as typed, so the login failed."""
    monkeypatch.delenv("EDGECNN_MQTT_PASSWORD", raising=False)
    args = ["--source", "stdin", "--sink", "mqtt://pi:p%40ss%2Fw@broker/t"]
    service.write_unit(model, args, user=True, name="p", out=tmp_path)
    assert (tmp_path / "p.env").read_text() == 'EDGECNN_MQTT_PASSWORD="p@ss/w"\n'
