"""edgecnn benchmark --remote against a real sshd on 127.0.0.1 (this machine plays the Pi)."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from edgecnn.cli import cli
from edgecnn.core.errors import BadInputError, RunFailedError
from edgecnn.device.bench import BenchResult, benchmark
from edgecnn.targets import remote as remote_module
from edgecnn.targets.remote import Remote, RemoteBenchResult, benchmark_remote, parse_remote
from tests.sshd_fixture import SshdUnavailable, free_port, start_sshd
from tests.testkit import FIXTURES

INT8 = FIXTURES / "digits-lenet5-int8.tflite"
FP32 = FIXTURES / "digits-lenet5-fp32.tflite"
# The venv's own console script: the "Pi" runs the edgecnn under test.
EDGECNN = Path(sys.executable).parent / "edgecnn"


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    """A running loopback sshd; skips (or fails, with EDGECNN_REQUIRE_SSHD=1) if impossible."""
    try:
        server = start_sshd(tmp_path_factory.mktemp("sshd"))
    except SshdUnavailable as exc:
        if os.environ.get("EDGECNN_REQUIRE_SSHD") == "1":
            pytest.fail(f"EDGECNN_REQUIRE_SSHD=1 but: {exc}")
        pytest.skip(f"no loopback sshd: {exc}")
    yield server
    server.stop()


def _run(sshd, models, **kwargs):
    kwargs.setdefault("remote_edgecnn", str(EDGECNN))
    kwargs.setdefault("runs", 3)
    kwargs.setdefault("warmup", 1)
    return benchmark_remote(models, remote=sshd.remote, ssh_options=sshd.ssh_options, **kwargs)


def _script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return str(path)


# Remote and local timings of the same model on the same machine, in separate processes:
# they agree within this factor either way (loose: a shared CI machine is noisy).
LATENCY_FACTOR = 10


def test_remote_rows_match_a_local_run(sshd):
    rows = _run(sshd, [INT8, FP32], runs=20, threads=1)
    assert [r.mode for r in rows] == ["int8", "fp32"]
    for row, model in zip(rows, (INT8, FP32), strict=True):
        local = benchmark(model, runs=20, warmup=1, threads=1).to_dict()
        remote = row.to_dict()
        assert isinstance(row, BenchResult) and isinstance(row, RemoteBenchResult)
        assert set(remote) == set(local) | {"host"} and remote.pop("host") == "127.0.0.1"
        # What the model is and how it was run must be identical, value for value.
        same = ("path", "size_bytes", "mode", "accuracy", "threads", "runs")
        assert {k: remote[k] for k in same} == {k: local[k] for k in same}
        assert remote["path"] == str(model) and remote["size_bytes"] == model.stat().st_size
        assert remote["accuracy"] > 0.5  # from the manifest: the test split's accuracy
        for key in ("mean_ms", "p50_ms", "min_ms"):  # same model, same machine
            ratio = remote[key] / local[key]
            assert 1 / LATENCY_FACTOR < ratio < LATENCY_FACTOR, (key, remote[key], local[key])
        assert row.min_ms <= row.p50_ms <= row.p90_ms <= row.p99_ms <= row.max_ms
        assert remote["inferences_per_s"] == pytest.approx(1000 / remote["mean_ms"], rel=0.01)
        assert remote["init_ms"] > 0 and remote["first_ms"] > 0 and remote["peak_rss_bytes"] > 0


def test_remote_folder_holds_models_and_manifests_and_is_removed(sshd, tmp_path):
    # Same file names from two run folders must not overwrite each other on the remote.
    for folder, source in (("a", INT8), ("b", FP32)):
        (tmp_path / folder).mkdir()
        shutil.copy(source, tmp_path / folder / "model.tflite")
        shutil.copy(source.with_suffix(".json"), tmp_path / folder / "model.json")
    record = tmp_path / "record"
    wrapper = _script(tmp_path / "wrap.sh",
                      f'pwd > {record}; find . -type f | sort >> {record}; exec {EDGECNN} "$@"')
    models = [tmp_path / "a" / "model.tflite", tmp_path / "b" / "model.tflite"]
    rows = _run(sshd, models, remote_edgecnn=wrapper)
    assert [r.mode for r in rows] == ["int8", "fp32"]
    folder, *files = record.read_text().split()
    assert Path(folder).name.startswith("edgecnn-bench.")
    assert files == ["./0/model.json", "./0/model.tflite", "./1/model.json", "./1/model.tflite"]
    assert not Path(folder).exists()


def test_remote_folder_is_removed_when_the_benchmark_fails(sshd, tmp_path):
    record = tmp_path / "record"
    wrapper = _script(tmp_path / "fail.sh", f"pwd > {record}; echo boom >&2; exit 3")
    with pytest.raises(RunFailedError, match=r"exit 3\): boom") as info:
        _run(sshd, [FP32], remote_edgecnn=wrapper)
    assert "127.0.0.1" in str(info.value) and info.value.exit_code == 1
    assert not Path(record.read_text().strip()).exists()


def test_missing_remote_edgecnn_is_a_run_failure_with_a_hint(sshd):
    with pytest.raises(RunFailedError, match=r'/nowhere/edgecnn.*pip install "edgecnn\[device\]"'):
        _run(sshd, [INT8], remote_edgecnn="/nowhere/edgecnn")


def test_remote_output_without_rows_is_a_run_failure(sshd, tmp_path):
    wrapper = _script(tmp_path / "chatty.sh", "echo hello there")
    with pytest.raises(RunFailedError, match="did not print 1 JSON row.*hello there"):
        _run(sshd, [INT8], remote_edgecnn=wrapper)


def test_remote_timeout_is_a_run_failure(sshd, tmp_path):
    wrapper = _script(tmp_path / "slow.sh", "exec sleep 3")
    with pytest.raises(RunFailedError, match="did not finish within 0.5s"):
        _run(sshd, [INT8], remote_edgecnn=wrapper, timeout=0.5)


def test_closed_port_is_bad_input_quickly(sshd):
    started = time.monotonic()
    with pytest.raises(BadInputError, match=r"127\.0\.0\.1.*Connection refused") as info:
        benchmark_remote([INT8], remote=f"root@127.0.0.1:{free_port()}",
                         ssh_options=sshd.ssh_options)
    assert info.value.exit_code == 2 and time.monotonic() - started < 10


def test_refused_key_is_bad_input(sshd, tmp_path):
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)],
                   check=True, timeout=30)  # fmt: skip
    options = [str(stranger) if o == str(sshd.client_key) else o for o in sshd.ssh_options]
    with pytest.raises(BadInputError, match="cannot reach or log in.*Permission denied"):
        benchmark_remote([INT8], remote=sshd.remote, ssh_options=options)


@pytest.mark.parametrize(
    "text",
    ["", "pi@", "@host", "-oProxyCommand=touch_x", "pi@-x", "host:", "host:port", "host:0",
     "host:70000", "pi@host@x", "pi host", "fe80::1", "[fe80::1", "host;reboot", "pi@host/x"],
)  # fmt: skip
def test_malformed_remote_is_bad_input(text):
    with pytest.raises(BadInputError, match=r"not a valid ssh destination.*\[user@\]host"):
        benchmark_remote([INT8], remote=text)


@pytest.mark.parametrize(
    ("text", "parsed", "destination"),
    [
        ("raspberrypi", Remote("raspberrypi"), "raspberrypi"),
        ("pi@raspberrypi.local", Remote("raspberrypi.local", "pi"), "pi@raspberrypi.local"),
        ("pi@192.168.1.20:2222", Remote("192.168.1.20", "pi", 2222), "pi@192.168.1.20"),
        ("pi@[fe80::1%eth0]:22", Remote("fe80::1%eth0", "pi", 22), "pi@fe80::1%eth0"),
    ],
)
def test_parse_remote(text, parsed, destination):
    assert parse_remote(text) == parsed
    assert parsed.destination == destination and str(parsed) == text


def test_missing_local_model_fails_before_connecting(tmp_path):
    with pytest.raises(BadInputError, match="does not exist"):
        benchmark_remote([tmp_path / "none.tflite"], remote="127.0.0.1:1")
    with pytest.raises(BadInputError, match="--runs"):
        benchmark_remote([INT8], remote="127.0.0.1:1", runs=0)


def _cli_has_remote() -> bool:
    return any(p.name == "remote" for p in cli.commands["benchmark"].params)


@pytest.mark.skipif(not _cli_has_remote(), reason="benchmark --remote is not wired in cli.py yet")
def test_cli_remote_json_and_table(sshd, monkeypatch):
    # The CLI has no ssh option of its own (users have ~/.ssh/config); give it the test key.
    monkeypatch.setattr(remote_module, "SSH_DEFAULTS",
                        (*sshd.ssh_options, *remote_module.SSH_DEFAULTS))
    args = ["benchmark", str(INT8), "--remote", sshd.remote, "--remote-edgecnn", str(EDGECNN),
            "--runs", "3", "--warmup", "0"]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["path"] == str(INT8) and row["host"] == "127.0.0.1" and row["mode"] == "int8"
    table = CliRunner().invoke(cli, args)
    assert table.exit_code == 0 and "p50" in table.stdout and "127.0.0.1" in table.stdout
    bad = CliRunner().invoke(cli, ["benchmark", str(INT8), "--remote", "pi@"])
    assert bad.exit_code == 2 and "not a valid ssh destination" in bad.stderr
