import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgecnn.cli import cli
from edgecnn.core import fileio
from edgecnn.core.manifest import load_manifest
from edgecnn.device.io.sources import CsvReplay
from edgecnn.device.loop import run
from edgecnn.device.post import UNKNOWN, Debounce, PostProcessor
from edgecnn.device.preflight import RunOptions
from edgecnn.device.runner import Runner
from edgecnn.device.windows import Windower
from edgecnn.optimize.quantize import quantize
from edgecnn.training.data.sensors import load_sensor_csv
from edgecnn.training.data.sources import DataOptions
from edgecnn.training.data.synthetic import make_sensor_csv
from edgecnn.training.rundir import RunDir, load_labels, load_split_arrays
from edgecnn.training.train import train
from edgecnn.training.trainconfig import TrainConfig
from tests.testkit import FIXTURES

EDGECNN = str(Path(sys.executable).with_name("edgecnn"))


@pytest.fixture(scope="module")
def sensor_bundle(tmp_path_factory):
    """A cnn1d trained on a generated IMU CSV, quantized to int8, and the CSV itself."""
    root = tmp_path_factory.mktemp("rt")
    csv_path = make_sensor_csv(root / "imu.csv", samples_per_recording=200)
    config = TrainConfig(
        data=str(csv_path),
        model="cnn1d",
        epochs=4,
        lr=3e-3,
        data_options=DataOptions(window=32, hop=16),
    )
    train(config, out=root / "run", log=lambda _line: None)
    (variant,) = quantize(root / "run", modes=["int8"]).variants
    return Path(variant.path), csv_path, RunDir(root / "run")


def quiet(_line):
    pass


@pytest.mark.slow
def test_quantize_reports_test_accuracy_per_recording(sensor_bundle):
    _, _, run = sensor_bundle
    (variant,) = fileio.read_json(run.root / "quantize-model.json")["variants"]
    trained = fileio.read_json(run.report)["test_by_recording"]
    assert trained["recordings"] == 3  # whole recordings of the CSV, windows voted together
    assert 0 <= variant["recording_accuracy"] <= 1


@pytest.mark.slow
def test_runtime_windows_equal_the_training_windows(sensor_bundle):
    model, csv_path, _ = sensor_bundle
    pre = Runner(model).preprocessing
    trained = load_sensor_csv(csv_path, window=32, hop=16)
    windower = Windower(window=32, hop=16, channels=3)
    windows = []
    for item in CsvReplay(csv_path, pre, rate_hz=0):
        if item.new_recording:
            windower.reset()
        window = windower.push(item.values)
        if window is not None:
            windows.append(window)
    assert len(windows) == len(trained.x)
    assert np.array_equal(pre.apply(np.stack(windows)), pre.apply(trained.x))


@pytest.mark.slow
def test_replay_of_the_test_split_matches_the_quantize_evaluation(sensor_bundle, tmp_path):
    model, _, run_dir = sensor_bundle
    arrays = load_split_arrays(run_dir)
    replay = tmp_path / "test.npz"
    np.savez(replay, x=arrays.x["test"], y=arrays.y["test"], labels=np.array(load_labels(run_dir)))
    out = tmp_path / "results.jsonl"
    summary = run(
        str(model),
        source=f"replay:{replay}",
        sinks=[f"jsonl:{out}"],
        options=RunOptions(rate_hz=0),
        log=quiet,
    )
    assert summary.windows == len(arrays.y["test"]) == len(out.read_text().splitlines())
    assert summary.accuracy == pytest.approx(load_manifest(model).metrics["accuracy"], abs=1e-4)


@pytest.mark.slow
def test_csv_replay_end_to_end_with_garbled_rows(sensor_bundle, tmp_path):
    model, csv_path, _ = sensor_bundle
    lines = csv_path.read_text().splitlines()
    lines[5] = lines[5].rsplit(",", 1)[0] + ",nan"
    lines[9] = lines[9].rsplit(",", 1)[0] + ",oops"
    broken = tmp_path / "broken.csv"
    broken.write_text("\n".join(lines) + "\n")
    summary = run(
        str(model),
        source=f"replay:{broken}",
        sinks=[f"csv:{tmp_path / 'r.csv'}"],
        options=RunOptions(rate_hz=0, max_windows=20),
        log=quiet,
    )
    assert summary.dropped == 2 and summary.windows == 20
    assert summary.accuracy is not None and summary.p50_infer_ms > 0
    assert (tmp_path / "r.csv").read_text().startswith("t,window,label,score,truth")


def test_post_processing():
    post = PostProcessor(["a", "b"], smooth=2, threshold=0.6)
    assert post(np.array([0.9, 0.1])).label == "a"
    second = post(np.array([0.1, 0.9]))  # mean of the two is 0.5/0.5: below the threshold
    assert second.label == UNKNOWN and second.score == pytest.approx(0.5)
    debounce = Debounce(min_interval=1.0)
    assert debounce.should_emit("a", 0.0) and not debounce.should_emit("a", 5.0)
    assert not debounce.should_emit("b", 0.5) and debounce.should_emit("b", 1.5)


def test_ties_go_to_the_first_class_like_argmax():
    scores = np.array([0.1, 0.4, 0.4, 0.1])  # int8 outputs often tie like this
    decision = PostProcessor(["a", "b", "c", "d"])(scores)
    assert decision.label == "b" == "abcd"[int(np.argmax(scores))]
    assert [label for label, _ in decision.top] == ["b", "c", "a"]


def test_windower_hops():
    windower = Windower(window=4, hop=3, channels=1)
    starts = [w[0, 0] for i in range(13) if (w := windower.push(np.array([i]))) is not None]
    assert starts == [0, 3, 6, 9]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--source", "ftp:x"], "not understood"),
        (["--source", "serial:/dev/none"], "not serial sensor lines"),
        (["--source", "replay:missing.npz"], "not a .npz"),
        (["--source", "replay:x.npz", "--sink", "ftp://x"], "not understood"),
    ],
)
def test_bad_input_exits_2(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    np.savez(tmp_path / "x.npz", x=np.zeros((2, 8, 8, 1), np.float32))
    result = CliRunner().invoke(cli, ["run", str(FIXTURES / "digits-lenet5-int8.tflite"), *args])
    assert result.exit_code == 2 and message in result.stderr, result.output


def test_model_bundle_problems_exit_2(tmp_path):
    model = tmp_path / "m.tflite"
    shutil.copy(FIXTURES / "digits-lenet5-int8.tflite", model)
    no_manifest = CliRunner().invoke(cli, ["run", str(model), "--source", "stdin"])
    assert no_manifest.exit_code == 2 and "no manifest" in no_manifest.stderr
    shutil.copy(FIXTURES / "digits-lenet5-int8.json", tmp_path / "m.json")
    model.write_bytes(model.read_bytes()[:-1] + b"\x00")
    tampered = CliRunner().invoke(cli, ["run", str(model), "--source", "stdin"])
    assert tampered.exit_code == 2 and "does not match its manifest" in tampered.stderr


@pytest.mark.slow
def test_csv_without_the_model_channels_exits_2(sensor_bundle, tmp_path):
    model, _, _ = sensor_bundle
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("time,label,x,y\n0,a,1,2\n")
    result = CliRunner().invoke(cli, ["run", str(model), "--source", f"replay:{wrong}"])
    assert result.exit_code == 2 and "channel column" in result.stderr


BLOCKED_RUN = """
import importlib.abc, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "keras", "tf_keras"):
            raise ImportError("blocked: " + name)

sys.meta_path.insert(0, Block())
from edgecnn.cli import cli
try:
    cli(["run", *sys.argv[1:]], standalone_mode=False)
finally:
    heavy = [m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras")]
    print("HEAVY", heavy, file=sys.stderr)
"""


def test_run_works_with_tensorflow_unimportable(tmp_path):
    replay = tmp_path / "frames.npz"
    np.savez(replay, x=np.random.default_rng(0).uniform(0, 16, (5, 8, 8, 1)))
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            BLOCKED_RUN,
            str(FIXTURES / "digits-lenet5-int8.tflite"),
            "--source",
            f"replay:{replay}",
            "--rate",
            "0",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "HEAVY []" in proc.stderr
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(results) == 5 and {"label", "score", "t"} <= set(results[0])


@pytest.mark.slow
def test_sigterm_finishes_cleanly(sensor_bundle):
    model, csv_path, _ = sensor_bundle
    rows = [",".join(line.split(",")[3:]) for line in csv_path.read_text().splitlines()[1:]]
    proc = subprocess.Popen(
        [EDGECNN, "run", str(model), "--source", "stdin"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    proc.stdin.write("\n".join(rows[:32]) + "\n")
    proc.stdin.flush()
    first = json.loads(proc.stdout.readline())
    proc.send_signal(signal.SIGTERM)  # stdin stays open: the source's wait ends by itself
    proc.wait(timeout=30)
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert first["window"] == 1 and "1 windows" in err


def test_metrics_line_reports_rates_drops_errors_and_spool(tmp_path):
    replay = tmp_path / "frames.npz"
    np.savez(replay, x=np.random.default_rng(0).uniform(0, 16, (3000, 8, 8, 1)))
    lines: list[str] = []
    run(
        str(FIXTURES / "digits-lenet5-int8.tflite"),
        source=f"replay:{replay}",
        sinks=(),
        options=RunOptions(rate_hz=0, metrics_every=0.01),
        log=lines.append,
    )
    assert lines, "no metrics line in a 3000-window run"
    for part in (
        "windows (",
        "/s)",
        "inference p50",
        "p99",
        "end-to-end",
        "dropped samples 0",
        "sensor errors 0",
        "dropped results 0",
        "spool depth 0",
    ):
        assert part in lines[-1], part
