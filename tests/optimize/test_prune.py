import json
import shutil

import numpy as np
import pytest

from edgecnn.core.errors import BadInputError, ModelError
from edgecnn.optimize.prune import prune
from edgecnn.optimize.pruning import Method, PruneResult
from edgecnn.training import tfdeps
from edgecnn.training.modelio import load_keras_model, save_keras_model
from edgecnn.training.rundir import RunDir
from edgecnn.training.train import train
from edgecnn.training.trainconfig import TrainConfig

keras = tfdeps.keras()


def quiet(_line):
    pass


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("prune") / "run"
    config = TrainConfig(data="builtin:digits", model="lenet5", epochs=1)
    train(config, out=root, log=quiet)
    return root


@pytest.fixture
def run(trained_run, tmp_path):
    """A fresh copy of the trained run, so tests can write into it."""
    return RunDir(shutil.copytree(trained_run, tmp_path / "run"))


def files_of(run):
    return sorted(p.name for p in run.root.iterdir())


@pytest.mark.slow
def test_structured_pruning_writes_a_thinner_model_and_its_report(run):
    lines = []
    result = prune(run.root, ratio=0.5, finetune_epochs=1, log=lines.append)
    assert isinstance(result, PruneResult) and result.method == "structured"
    assert result.params_after < result.params_before
    assert result.macs_after < result.macs_before
    assert result.size_bytes_after < result.size_bytes_before
    assert 0 <= result.accuracy_after <= 1 and 0 <= result.accuracy_before <= 1
    assert result.model_path == str(run.root / "pruned.keras")
    model = load_keras_model(result.model_path)
    assert model.count_params() == result.params_after
    x = np.zeros((2, *model.inputs[0].shape[1:]), "float32")
    assert model(x).shape == (2, 10)
    report = json.loads((run.root / "prune.json").read_text())
    assert report["params_after"] == result.params_after
    assert report["options"]["scope"] == "layer" and report["method"] == "structured"
    assert len(report["history"]["val_accuracy"]) == 1
    rows = {row["name"]: row for row in report["layers"]}
    assert rows["conv2"]["channels_after"] == 8 and rows["conv2"]["channels_before"] == 16
    assert rows["conv2"]["macs_after"] < rows["conv2"]["macs_before"]
    assert rows["predictions"]["fixed"] and rows["predictions"]["channels_after"] == 10
    assert report["macs_ratio"] == round(result.macs_after / result.macs_before, 4)
    assert any("fine-tune epoch 1/1" in line for line in lines)


@pytest.mark.slow
def test_magnitude_pruning_reaches_the_sparsity_and_shrinks_after_gzip(run):
    result = prune(run.root / "model.keras", method="magnitude", ratio=0.8, finetune_epochs=1,
                   out="sparse.keras", log=quiet)  # fmt: skip
    assert result.method == Method.MAGNITUDE
    assert result.params_after == result.params_before
    assert result.macs_after == result.macs_before
    assert result.gzip_bytes_after < 0.6 * result.gzip_bytes_before
    assert "gzip" in result.note and "no faster" in result.note
    pruned = [row for row in result.layers if row["skipped"] is None]
    assert pruned and all(row["sparsity"] == pytest.approx(0.8, abs=0.01) for row in pruned)
    model = load_keras_model(run.root / "sparse.keras")
    kernel = np.asarray(model.get_layer("fc1").kernel)
    assert np.mean(kernel == 0) == pytest.approx(0.8, abs=0.01)
    assert (run.root / "prune-sparse.json").exists()


@pytest.mark.slow
def test_out_names_the_model_and_its_report_so_ratios_can_sit_side_by_side(run):
    for ratio in (0.25, 0.5):
        prune(run.root, ratio=ratio, finetune_epochs=0, out=f"pruned-{ratio}.keras", log=quiet)
    names = files_of(run)
    assert {"pruned-0.25.keras", "prune-0.25.json", "pruned-0.5.keras", "prune-0.5.json"} <= set(
        names
    )
    small = json.loads((run.root / "prune-0.5.json").read_text())
    large = json.loads((run.root / "prune-0.25.json").read_text())
    assert small["params_after"] < large["params_after"]
    assert small["history"] == {} and small["finetune_epochs"] == 0


@pytest.mark.slow
def test_a_pruned_model_can_be_pruned_again_into_another_file(run):
    prune(run.root, ratio=0.5, finetune_epochs=0, log=quiet)
    with pytest.raises(BadInputError, match="would overwrite the model being pruned"):
        prune(run.root / "pruned.keras", ratio=0.5, finetune_epochs=0, log=quiet)
    result = prune(run.root / "pruned.keras", ratio=0.5, finetune_epochs=0, out="pruned-x2.keras",
                   log=quiet)  # fmt: skip
    first = json.loads((run.root / "prune.json").read_text())
    assert result.params_before == first["params_after"]


@pytest.mark.slow
@pytest.mark.parametrize("ratio", [0, 1, 1.5, -0.2, "0.5x", True])
def test_a_ratio_outside_0_1_is_refused_and_nothing_is_written(run, ratio):
    before = files_of(run)
    with pytest.raises(BadInputError, match=f"ratio must be .*got {ratio!r}"):
        prune(run.root, ratio=ratio, log=quiet)
    assert files_of(run) == before


@pytest.mark.slow
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"method": "random"}, "method must be one of structured, magnitude; got 'random'"),
        ({"finetune_epochs": -1}, "finetune_epochs must be an integer >= 0; got -1"),
        ({"out": "model.keras"}, "would overwrite the model being pruned"),
        ({"out": "sub/pruned.keras"}, "plain .keras file name"),
        ({"out": "pruned.h5"}, "plain .keras file name"),
        ({"lr_factor": 0}, "lr_factor must be a number greater than 0"),
        ({"scope": "all"}, "scope must be one of layer, global"),
    ],
)
def test_bad_options_are_named(run, options, message):
    before = files_of(run)
    with pytest.raises(BadInputError, match=message):
        prune(run.root, log=quiet, **options)
    assert files_of(run) == before


@pytest.mark.slow
def test_a_truncated_model_file_is_a_model_error(run):
    data = run.model.read_bytes()
    run.model.write_bytes(data[: len(data) // 2])
    before = files_of(run)
    with pytest.raises(ModelError, match="not a complete .keras archive"):
        prune(run.model, log=quiet)
    assert files_of(run) == before


@pytest.mark.slow
def test_a_model_outside_a_run_folder_is_refused(run, tmp_path):
    alone = shutil.copy(run.model, tmp_path / "alone.keras")
    with pytest.raises(BadInputError, match="not inside a training run folder; pruning needs"):
        prune(alone, log=quiet)
    with pytest.raises(BadInputError, match="does not exist"):
        prune(tmp_path / "missing", log=quiet)


@pytest.mark.slow
def test_a_layer_structured_pruning_cannot_handle_is_named_before_anything_is_written(run):
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", name="conv")(inputs)
    x = keras.layers.Conv2DTranspose(4, 3, padding="same", name="upsample")(x)
    outputs = keras.layers.Dense(10, name="predictions")(keras.layers.Flatten()(x))
    save_keras_model(keras.Model(inputs, outputs), run.root / "odd.keras")
    before = files_of(run)
    with pytest.raises(ModelError, match=r"'upsample' \(Conv2DTranspose\)"):
        prune(run.root / "odd.keras", log=quiet)
    assert files_of(run) == before
    result = prune(run.root / "odd.keras", method="magnitude", finetune_epochs=0, log=quiet)
    assert "upsample" in {row["name"] for row in result.layers}  # magnitude handles it


@pytest.mark.slow
def test_cli_prune_json_and_bad_ratio(run):
    import json

    from click.testing import CliRunner

    from edgecnn.cli import cli

    result = CliRunner().invoke(
        cli, ["prune", str(run.root), "--ratio", "0.5", "--finetune-epochs", "0", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["macs_after"] < data["macs_before"] and data["macs_ratio"] < 1
    bad = CliRunner().invoke(cli, ["prune", str(run.root), "--ratio", "1.5"])
    assert bad.exit_code == 2 and "strictly between 0 and 1" in bad.stderr
