import json
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from edgecnn import __version__
from edgecnn.cli import cli

VERBS = [
    "models",
    "summary",
    "train",
    "demo",
    "prune",
    "quantize",
    "boards",
    "benchmark",
    "estimate",
    "export",
    "run",
    "service",
]

NO_TF_HELP = """
import sys, time
t = time.perf_counter()
from click.testing import CliRunner
from edgecnn.cli import cli
for args in (["--help"], *[[verb, "--help"] for verb in sys.argv[1:]]):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
heavy = sorted(m for m in ("tensorflow", "keras", "matplotlib", "sklearn") if m in sys.modules)
print(heavy, round(time.perf_counter() - t, 3))
"""


def test_help_never_imports_tensorflow_and_is_fast():
    out = subprocess.run(
        [sys.executable, "-c", NO_TF_HELP, *VERBS], capture_output=True, text=True, check=True
    )
    heavy, seconds = out.stdout.rsplit(" ", 1)
    assert heavy == "[]"
    assert float(seconds) < 1.0


def test_console_script_help_answers_quickly():
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "edgecnn", "--help"], capture_output=True, text=True, check=True
    )
    assert "train" in out.stdout and time.perf_counter() - started < 3.0


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_has_help_with_an_example(verb):
    result = CliRunner().invoke(cli, [verb, "--help"])
    assert result.exit_code == 0 and "Example" in result.output


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--data", "no/such/folder"], "does not exist"),
        (["train", "--data", "builtin:digits", "--model", "alexnet"], "unknown model"),
        (["train", "--resume"], "--resume needs --out"),
        (["train"], "--data is required"),
        (["train", "--data", "builtin:digits", "--input-shape", "32xx"], "input shape"),
        (["summary", "nothing.keras"], "nothing.keras"),
        (["summary", "lenet5", "--input-shape", "4x4x1"], "at least 8x8"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    if "input shape" not in message:  # click's own usage errors add a usage line
        assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_train_json_keeps_stdout_clean(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(
        cli,
        [
            "train",
            "--data",
            "builtin:digits",
            "--model",
            "lenet5",
            "--epochs",
            "1",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"test_accuracy", "model_path", "run_dir"} <= set(data)
    assert data["run_dir"] == str(out) and "epoch 1/1" in result.stderr


def test_summary_json_has_the_totals():
    result = CliRunner().invoke(
        cli, ["summary", "resnet8", "--input-shape", "32x32x3", "--num-classes", "10", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["total_params"] == 78666 and data["total_macs"] == 12501632
    assert data["peak_activation_bytes"] > 0 and data["layers"]


def test_models_lists_the_zoo():
    result = CliRunner().invoke(cli, ["models", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert set(rows) == {
        "lenet5",
        "vgg_tiny",
        "resnet8",
        "inception_tiny",
        "densenet_tiny",
        "dscnn",
        "mobilenet_v1",
        "cnn1d",
        "fcn1d",
        "resnet1d",
        "inception1d",
    }
    assert rows["mobilenet_v1"]["params"] == 221794 and rows["dscnn"]["macs"] == 2656768
