"""RunCheckpoint: what an interrupted run can resume from, and which weights are the best."""

import numpy as np

from edgecnn.core import fileio
from edgecnn.training import tfdeps
from edgecnn.training.callbacks import RunCheckpoint
from edgecnn.training.rundir import RunDir

keras = tfdeps.keras()


def _model():
    inputs = keras.Input((3,))
    return keras.Model(inputs, keras.layers.Dense(2)(inputs))


def _epoch(callback, model, epoch, val_loss, fill):
    model.set_weights([np.full_like(w, fill) for w in model.get_weights()])
    callback.on_epoch_end(epoch, {"loss": val_loss, "val_loss": val_loss})


def test_saves_first_epoch_then_at_most_every_interval_and_at_the_end(tmp_path):
    run = RunDir(tmp_path)
    model = _model()
    callback = RunCheckpoint(run, patience=5, save_every_s=1e9)
    callback.set_model(model)
    _epoch(callback, model, 0, val_loss=1.0, fill=1.0)
    assert fileio.read_json(run.state)["epoch"] == 1  # the first epoch is always saved
    _epoch(callback, model, 1, val_loss=0.5, fill=2.0)
    _epoch(callback, model, 2, val_loss=0.9, fill=3.0)
    # Interrupted now, a resumed run would restart after epoch 1, with epoch 1's best weights.
    state = fileio.read_json(run.state)
    assert state["epoch"] == 1 and state["best_epoch"] == 1
    assert len(state["history"]["loss"]) == 1
    callback.on_train_end()
    state = fileio.read_json(run.state)
    assert state["epoch"] == 3 and state["best_epoch"] == 2 and state["wait"] == 1
    restored = _model()
    restored.load_weights(run.best_weights)
    assert all(np.all(w == 2.0) for w in restored.get_weights())
    assert all(np.all(w == 3.0) for w in model.get_weights())  # training weights untouched
    last = keras.saving.load_model(run.last_checkpoint)
    assert all(np.all(w == 3.0) for w in last.get_weights())


def test_patience_stops_training(tmp_path):
    model = _model()
    callback = RunCheckpoint(RunDir(tmp_path), patience=2)
    callback.set_model(model)
    for epoch, loss in enumerate((1.0, 1.1, 1.2)):
        _epoch(callback, model, epoch, val_loss=loss, fill=float(epoch))
    assert model.stop_training and callback.state["stopped_early"]
