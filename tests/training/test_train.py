import dataclasses
import json

import numpy as np
import pytest

from edgecnn.core import fileio
from edgecnn.core.errors import BadInputError, DataError, ModelError
from edgecnn.core.preprocess import Preprocessing
from edgecnn.training import tfdeps
from edgecnn.training.data.balance import Balance
from edgecnn.training.data.sources import DataOptions
from edgecnn.training.rundir import RunDir, load_split_arrays
from edgecnn.training.train import train
from edgecnn.training.trainconfig import TrainConfig

DIGITS = TrainConfig(data="builtin:digits", model="lenet5", epochs=3, batch_size=64, lr=3e-3)


def quiet(_line):
    pass


@pytest.mark.slow
def test_digits_training_beats_chance_and_writes_a_complete_run(tmp_path):
    run = RunDir(tmp_path / "run")
    result = train(DIGITS, out=run.root, log=quiet)
    assert result.test_accuracy > 0.5  # chance is 0.1
    assert result.epochs_run == 3 and result.params > 0 and result.macs > 0
    for path in (
        run.model,
        run.report,
        run.curves_png,
        run.confusion_png,
        run.labels,
        run.preprocessing,
        run.split,
        run.data,
        run.config,
    ):
        assert path.exists(), path
    assert not run.checkpoint_dir.exists()
    report = fileio.read_json(run.report)
    assert report["test_accuracy"] == result.test_accuracy
    assert len(report["history"]["val_loss"]) == 3
    assert np.array(report["confusion_matrix"]).shape == (10, 10)
    assert {c["label"] for c in report["per_class"]} == {str(i) for i in range(10)}
    assert report["data"]["split_method"] == "stratified"
    assert run.curves_png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_saved_split_and_preprocessing_reproduce_the_model_input(tmp_path):
    run = RunDir(tmp_path / "run")
    train(DIGITS.__class__(**{**DIGITS.__dict__, "epochs": 1}), out=run.root, log=quiet)
    arrays = load_split_arrays(run)
    pre = Preprocessing.from_dict(fileio.read_json(run.preprocessing))
    split = fileio.read_json(run.split)
    assert len(split["test"]) == len(arrays.y["test"])
    model = tfdeps.keras().saving.load_model(run.model)
    x = pre.apply(arrays.x["test"])
    assert x.max() <= 1.0 and pre.scale == pytest.approx(1 / 16)
    test_acc = np.mean(np.argmax(model.predict(x, verbose=0), -1) == arrays.y["test"])
    assert test_acc == pytest.approx(fileio.read_json(run.report)["test_accuracy"], abs=1e-4)


class InterruptAfterFirstEpoch(tfdeps.keras().callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        raise KeyboardInterrupt


@pytest.mark.slow
def test_resume_continues_an_interrupted_run(tmp_path):
    """With label smoothing: the checkpoint holds a one-hot loss that must load and go on."""
    smoothed = dataclasses.replace(DIGITS, label_smoothing=0.1)
    run = RunDir(tmp_path / "run")
    with pytest.raises(KeyboardInterrupt):
        train(smoothed, out=run.root, extra_callbacks=[InterruptAfterFirstEpoch()], log=quiet)
    assert not run.model.exists() and not run.report.exists()
    assert fileio.read_json(run.state)["epoch"] == 1
    with pytest.raises(BadInputError, match="--resume"):
        train(smoothed, out=run.root, log=quiet)
    result = train(DIGITS, out=run.root, resume=True, log=quiet)  # the saved options win
    assert fileio.read_json(run.config)["config"]["label_smoothing"] == 0.1
    assert result.epochs_run == 3 and result.test_accuracy > 0.5  # ten classes
    assert len(fileio.read_json(run.report)["history"]["loss"]) == 3
    with pytest.raises(BadInputError, match="already finished"):
        train(DIGITS, out=run.root, resume=True, log=quiet)
    with pytest.raises(BadInputError, match="finished run"):
        train(DIGITS, out=run.root, log=quiet)


def test_resume_needs_a_run_folder(tmp_path):
    with pytest.raises(BadInputError, match="nothing to resume"):
        train(DIGITS, out=tmp_path / "none", resume=True, log=quiet)


@pytest.mark.slow
def test_sensor_csv_with_cnn1d(sensor_csv, tmp_path):
    config = TrainConfig(
        data=str(sensor_csv),
        model="cnn1d",
        epochs=4,
        lr=3e-3,
        data_options=DataOptions(window=32, hop=16),
        augment="jitter,scale",
    )
    run = RunDir(tmp_path / "run")
    result = train(config, out=run.root, log=quiet)
    assert result.test_accuracy > 0.5  # three classes
    pre = json.loads(run.preprocessing.read_text())
    assert pre["channels"] == ["ax", "ay", "az"] and pre["window"] == 32 and pre["hop"] == 16
    assert len(pre["mean"]) == 3 and pre["sample_rate_hz"] == pytest.approx(50)
    report = fileio.read_json(run.report)
    assert report["data"]["split_method"] == "by-recording"
    # 3 classes x 4 recordings: 3 test recordings of ~11 windows each, judged as wholes.
    by_recording = report["test_by_recording"]
    assert by_recording["recordings"] == 3 and by_recording["windows_per_recording"] > 5
    assert result.test_recording_accuracy == by_recording["mean_probability"]


@pytest.fixture
def easy_image_folder(tmp_path):
    """Dark cats and bright dogs, 3 formats, mixed sizes and colour modes, 2:1 imbalanced:
    a set any working training run learns (chance is 0.5 by class, 0.67 by majority)."""
    from PIL import Image

    rng = np.random.default_rng(1)
    root = tmp_path / "images"
    for label, low, count in (("cat", 0, 48), ("dog", 150, 24)):
        (root / label).mkdir(parents=True)
        for i in range(count):
            mode = "L" if i % 4 == 3 else "RGB"
            shape = (10, 12 + i % 3) + (() if mode == "L" else (3,))
            pixels = rng.integers(low, low + 100, size=shape, dtype=np.uint8)
            suffix = (".png", ".jpg", ".bmp")[i % 3]
            Image.fromarray(pixels, mode=mode).save(root / label / f"{i}{suffix}")
    return root


def test_image_folder_with_balance_and_augmentation(easy_image_folder, tmp_path):
    config = TrainConfig(
        data=str(easy_image_folder),
        model="lenet5",
        epochs=4,
        batch_size=8,
        lr=1e-2,
        data_options=DataOptions(input_shape=(8, 8, 3)),
        balance=Balance.OVERSAMPLE,
        augment="shift,hflip,noise",
    )
    result = train(config, out=tmp_path / "run", log=quiet)
    report = fileio.read_json(RunDir(tmp_path / "run").report)
    # It learned: every held-out sample of both classes right, and the loss fell.
    assert result.test_accuracy == 1.0 and report["data"]["split_counts"]["test"] >= 10
    assert all(c["recall"] == 1.0 for c in report["per_class"])
    losses = report["history"]["loss"]
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize(
    "config, error, message",
    [
        (TrainConfig(data="builtin:digits", model="alexnet"), ModelError, "alexnet"),
        (TrainConfig(data="builtin:digits", model="cnn1d"), ModelError, "TxC"),
        (
            TrainConfig(
                data="builtin:digits",
                model="lenet5",
                data_options=DataOptions(input_shape=(32, 32, 3)),
            ),
            DataError,
            "only image",
        ),
        (
            TrainConfig(data="builtin:digits", model="lenet5", augment="jitter"),
            BadInputError,
            "does not apply",
        ),
        (TrainConfig(data="missing/", model="lenet5"), DataError, "does not exist"),
    ],
)
def test_bad_input_writes_nothing(tmp_path, config, error, message):
    out = tmp_path / "run"
    with pytest.raises(error, match=message):
        train(config, out=out, log=quiet)
    assert not out.exists() or not any(out.iterdir())


def test_config_round_trip_and_validation():
    config = TrainConfig(
        data="x.csv",
        model="cnn1d",
        balance=Balance.SMOTE,
        data_options=DataOptions(input_shape=(8, 3), window=8),
    )
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(BadInputError, match="lr"):
        TrainConfig(data="x", model="y", lr=5)


@pytest.mark.parametrize("extra", [["--epochs", "50"], ["--epochs", "10", "--lr", "0.1"]])
def test_resume_refuses_options_it_would_ignore_in_one_line(tmp_path, extra):
    from click.testing import CliRunner

    from edgecnn.cli import cli

    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["train", "--resume", "--out", str(out), *extra])
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.stderr.startswith("edgecnn: error: --resume ") and result.stderr.count("\n") == 1
    flags = [word for word in extra if word.startswith("--")]
    assert f"{', '.join(flags)} cannot change them" in result.stderr
    assert "start a new run" in result.stderr and not out.exists()
