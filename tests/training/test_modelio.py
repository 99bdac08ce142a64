"""Loading and saving .keras files: atomic saves, one clear line for every bad file."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from edgecnn.core.errors import ModelError
from edgecnn.training import tfdeps
from edgecnn.training.modelio import load_keras_model, save_keras_model

keras = tfdeps.keras()
L = keras.layers


def tiny_model(*extra):
    inp = keras.Input((6, 6, 1), name="input")
    x = L.Conv2D(2, 3, name="conv")(inp)
    for layer in extra:
        x = layer(x)
    out = L.Dense(2, activation="softmax", name="predictions")(L.Flatten()(x))
    return keras.Model(inp, out, name="tiny")


def load_error(path):
    with pytest.raises(ModelError) as err:
        load_keras_model(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message
    return message


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "tiny.keras"
    return save_keras_model(tiny_model(), path)


def test_round_trip_keeps_weights_and_leaves_no_temp_files(tmp_path):
    model = tiny_model()
    path = save_keras_model(model, tmp_path / "sub" / "model.keras")
    assert path == tmp_path / "sub" / "model.keras"
    assert [p.name for p in path.parent.iterdir()] == ["model.keras"]
    loaded = load_keras_model(path)
    x = np.random.default_rng(0).random((3, 6, 6, 1), dtype=np.float32)
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-6)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert not loaded.compiled  # loaded with compile=False


def test_save_replaces_an_existing_file(tmp_path, saved):
    path = tmp_path / "model.keras"
    path.write_bytes(saved.read_bytes())
    save_keras_model(tiny_model(L.ReLU(name="extra")), path)
    assert "extra" in [layer.name for layer in load_keras_model(path).layers]
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]


def test_a_failed_save_leaves_the_previous_file(tmp_path, saved, monkeypatch):
    path = tmp_path / "model.keras"
    path.write_bytes(saved.read_bytes())
    model = tiny_model()

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(model, "save", broken_save)
    with pytest.raises(ModelError, match="cannot save model to .*model.keras: disk full"):
        save_keras_model(model, path)
    assert path.read_bytes() == saved.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]


def test_save_needs_the_keras_suffix(tmp_path):
    with pytest.raises(ModelError, match="must end in .keras; got .*model.h5"):
        save_keras_model(tiny_model(), tmp_path / "model.h5")


def test_missing_file(tmp_path):
    assert "does not exist" in load_error(tmp_path / "nope.keras")


def test_folder(tmp_path):
    assert "is a folder" in load_error(tmp_path)


def test_wrong_suffixes(tmp_path):
    for name, message in [("m.h5", "legacy HDF5"), ("m.onnx", "not a .keras file (suffix .onnx)")]:
        path = tmp_path / name
        path.write_bytes(b"data")
        assert message in load_error(path)


def test_not_a_zip(tmp_path):
    path = tmp_path / "text.keras"
    path.write_text("hello")
    assert "not a complete .keras archive" in load_error(path)


def test_truncated_file(tmp_path, saved):
    path = tmp_path / "cut.keras"
    data = saved.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert "not a complete .keras archive (truncated" in load_error(path)


def test_zip_without_a_keras_config(tmp_path):
    path = tmp_path / "other.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hi")
    assert "not a Keras 3 model (no config.json inside)" in load_error(path)


def test_lambda_layer_is_refused_without_running_it(tmp_path):
    path = tmp_path / "lambda.keras"
    tiny_model(L.Lambda(lambda t: t * 2, name="double")).save(path)
    message = load_error(path)
    assert "contains a Lambda layer (double)" in message
    assert "never runs Python code" in message


class Unregistered(L.Layer):
    """A custom layer Keras cannot find at load time (not registered)."""

    def call(self, x):
        return x


def test_unknown_custom_object_is_refused(tmp_path):
    path = tmp_path / "custom.keras"
    tiny_model(Unregistered(name="mystery")).save(path)
    assert "uses a custom object Keras does not know (Unregistered)" in load_error(path)
