"""``edgecnn train``: fit a zoo model on a data source and write a complete run folder."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecnn import __version__
from edgecnn.core import fileio
from edgecnn.core.console import to_stderr
from edgecnn.core.errors import BadInputError
from edgecnn.core.records import Record
from edgecnn.training import accel, metrics, plots, schedule, tfdeps
from edgecnn.training.batches import TrainBatches, one_hot_labels
from edgecnn.training.callbacks import RunCheckpoint, StderrProgress, new_state
from edgecnn.training.data.augment import parse_augment
from edgecnn.training.data.balance import Balance, class_weights, resample
from edgecnn.training.modelio import plain_copy, save_keras_model
from edgecnn.training.models.registry import build_model, get_spec
from edgecnn.training.prepare import PreparedData, load_prepared, prepare_data, save_prepared
from edgecnn.training.recordings import recording_accuracy
from edgecnn.training.rundir import RunDir, read_object
from edgecnn.training.runs import read_record, saved_config
from edgecnn.training.summary import summarize
from edgecnn.training.trainconfig import TrainConfig

keras = tfdeps.keras()


@dataclass(frozen=True)
class TrainResult(Record):
    """What a finished training run produced."""

    run_dir: str
    model_path: str
    model: str
    test_accuracy: float
    val_accuracy: float
    test_recording_accuracy: float | None
    epochs_run: int
    best_epoch: int
    stopped_early: bool
    train_seconds: float
    params: int
    macs: int
    devices: str


def train(
    config: TrainConfig,
    *,
    out: str | Path | None = None,
    resume: bool = False,
    extra_callbacks: Sequence = (),
    log: Callable[[str], None] | None = None,
) -> TrainResult:
    """Trains ``config.model`` on ``config.data`` into a run folder.

    Args:
        config: the run's options; ignored (with a note) when resuming, which reuses the
            options saved in the run folder.
        out: the run folder; default ``runs/<timestamp>``.
        resume: continue the interrupted run in ``out`` from its last checkpoint.
        extra_callbacks: more Keras callbacks (e.g. a notebook progress display).
        log: where progress lines go; default stderr.

    Raises:
        BadInputError: bad data, model or options (nothing is written then).
    """
    log = log or to_stderr
    run = RunDir(Path(out)) if out else RunDir.new_default()
    if resume:
        config, prepared, state = _resume(run, log)
    else:
        _check_fresh(run)
        prepared, state = _start(run, config), new_state()
    devices = accel.find_devices()
    for line in devices.log_lines():  # and, without a GPU, what TensorFlow said about it
        log(line)
    started = time.perf_counter()
    model = _fit(run, config, prepared, state, devices, extra_callbacks)
    return _finish(run, config, prepared, model, devices, time.perf_counter() - started, log)


def _check_fresh(run: RunDir) -> None:
    if run.is_complete():
        raise BadInputError(f"{run.root} already holds a finished run; choose another --out")
    if run.root.exists() and any(run.root.iterdir()):
        raise BadInputError(
            f"{run.root} holds an unfinished run; pass --resume to continue it, or choose "
            "another --out"
        )


def _start(run: RunDir, config: TrainConfig) -> PreparedData:
    spec = get_spec(config.model)
    prepared = prepare_data(config)
    parse_augment(config.augment, prepared.preprocessing.kind)
    # Building once validates the input shape before anything is written.
    build_model(
        spec.name,
        input_shape=prepared.preprocessing.input_shape,
        num_classes=prepared.num_classes,
        width=config.width,
    )
    save_prepared(run, prepared)
    record = {
        "edgecnn_version": __version__,
        "config": config.to_dict(),
        "data": prepared.description,
    }
    fileio.write_json(run.config, record)
    return prepared


def _resume(run: RunDir, log) -> tuple[TrainConfig, PreparedData, dict]:
    if not run.config.exists():
        raise BadInputError(f"{run.root} is not an unfinished training run; nothing to resume")
    if run.is_complete():
        raise BadInputError(f"{run.root} already finished training; nothing to resume")
    record = read_record(run)
    config = saved_config(run, record)
    state = read_object(run.state) if run.state.exists() else new_state()
    log(f"resuming {run.root} after epoch {state['epoch']} with the options in {run.config.name}")
    return config, load_prepared(run, record["data"]), state


def _train_batches(config: TrainConfig, prepared: PreparedData, *, first_epoch: int):
    """The training split, balanced as asked, in seeded batches (augmented per batch)."""
    augment = parse_augment(config.augment, prepared.preprocessing.kind)
    to_input = _audio_input(prepared, augment)
    x_train, y_train = resample(
        prepared.arrays.x["train"] if to_input else prepared.inputs("train"),
        prepared.arrays.y["train"],
        config.balance,
        seed=config.seed,
    )
    weights = (
        class_weights(y_train, prepared.num_classes) if config.balance == Balance.WEIGHTS else None
    )
    return TrainBatches(
        x_train,
        y_train,
        to_input=to_input,
        batch_size=config.batch_size,
        augment=augment,
        seed=config.seed,
        first_epoch=first_epoch,
        class_weight=weights,
        one_hot=prepared.num_classes if config.label_smoothing else None,
    )


def _audio_input(prepared: PreparedData, augment):
    """Audio with augmentation: raw clips are augmented, then become features, per batch."""
    if prepared.preprocessing.audio is None or not augment:
        return None
    from edgecnn.training.data.audioaugment import AudioAugment

    return AudioAugment(prepared.preprocessing, augment, prepared.arrays.background)


def _fit(run, config, prepared, state, devices, extra_callbacks):
    plan = epoch_plan(config, prepared)
    keras.utils.set_random_seed(config.seed + state["epoch"])
    accel.set_mixed_precision(config.mixed_precision)
    with accel.strategy_scope(devices):
        model = _model_for(run, config, prepared, state, plan)
    batches = _train_batches(config, prepared, first_epoch=state["epoch"])
    callbacks = [
        RunCheckpoint(run, patience=plan.patience, state=state),
        StderrProgress(epochs=plan.epochs, steps=len(batches)),
        *extra_callbacks,
    ]
    if state["epoch"] < plan.epochs and not state["stopped_early"]:
        model.fit(
            batches,
            validation_data=(prepared.inputs("val"), _targets(config, prepared, "val")),
            epochs=plan.epochs,
            initial_epoch=state["epoch"],
            callbacks=callbacks,
            verbose=0,
        )
    if run.best_weights.exists():  # absent only if every validation loss was NaN
        model.load_weights(run.best_weights)
    return model


def _model_for(run, config, prepared, state, plan: schedule.EpochPlan):
    if state["epoch"] > 0 and run.last_checkpoint.exists():
        return keras.saving.load_model(run.last_checkpoint, safe_mode=True)
    model = build_model(
        config.model,
        input_shape=prepared.preprocessing.input_shape,
        num_classes=prepared.num_classes,
        width=config.width,
        seed=config.seed,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(
            schedule.learning_rate(keras, config.lr, plan)
        ),
        loss=_loss(config),
        metrics=["accuracy"],
    )
    return model


def _loss(config: TrainConfig):
    """Cross-entropy; on one-hot targets when label smoothing is on (Keras' sparse loss has no
    smoothing)."""
    if config.label_smoothing:
        return keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing)
    return keras.losses.SparseCategoricalCrossentropy()


def _targets(config: TrainConfig, prepared: PreparedData, split: str) -> np.ndarray:
    y = prepared.arrays.y[split]
    return one_hot_labels(y, prepared.num_classes) if config.label_smoothing else y


def epoch_plan(config: TrainConfig, prepared: PreparedData) -> schedule.EpochPlan:
    """The run's epochs and patience, resolved against its training-set size."""
    samples = len(prepared.arrays.y["train"])
    return schedule.plan_epochs(samples, config.batch_size, config.epochs, config.patience)


def predict_probs(model, x: np.ndarray) -> np.ndarray:
    """Class probabilities (eager calls in batches: no retracing for each new set size)."""
    batches = [np.asarray(model(x[i : i + 256], training=False)) for i in range(0, len(x), 256)]
    return np.concatenate(batches)


def predict_classes(model, x: np.ndarray) -> np.ndarray:
    """Top-1 class of each sample."""
    return np.argmax(predict_probs(model, x), axis=-1)


def _finish(run, config, prepared, model, devices, seconds, log) -> TrainResult:
    state = fileio.read_json(run.state)
    labels = list(prepared.labels)
    y_test = prepared.arrays.y["test"]
    probs = predict_probs(model, prepared.inputs("test"))
    predicted = np.argmax(probs, axis=-1)
    by_recording = recording_accuracy(probs, y_test, prepared.groups("test"))
    matrix = metrics.confusion_matrix(y_test, predicted, len(labels))
    val_acc = metrics.accuracy(
        prepared.arrays.y["val"], predict_classes(model, prepared.inputs("val"))
    )
    summary = summarize(model)
    result = TrainResult(
        run_dir=str(run.root),
        model_path=str(run.model),
        model=config.model,
        test_accuracy=round(metrics.accuracy(y_test, predicted), 4),
        val_accuracy=round(val_acc, 4),
        test_recording_accuracy=by_recording and by_recording["mean_probability"],
        epochs_run=state["epoch"],
        best_epoch=state["best_epoch"],
        stopped_early=state["stopped_early"],
        train_seconds=round(seconds, 2),
        params=summary.total_params,
        macs=summary.total_macs,
        devices=devices.describe(),
    )
    save_keras_model(plain_copy(model), run.model)  # no optimizer state: 1/3 the size
    plots.plot_curves(state["history"], run.curves_png)
    plots.plot_confusion(matrix, labels, run.confusion_png, title=f"{config.model}: test split")
    report = result.to_dict() | {
        "edgecnn_version": __version__,
        "labels": labels,
        "config": config.to_dict(),
        "data": prepared.description,
        "history": state["history"],
        "epoch_plan": epoch_plan(config, prepared).to_dict(),
        "test_by_recording": by_recording,
        "per_class": metrics.per_class_report(y_test, predicted, labels),
        "confusion_matrix": matrix.tolist(),
    }
    fileio.write_json(run.report, report)  # written last: it marks the run complete
    _remove_checkpoint(run)
    log(
        f"{config.model}: test accuracy {result.test_accuracy:.4f} after {result.epochs_run} "
        f"epochs ({result.train_seconds:.1f}s); saved {run.model}"
    )
    return result


def _remove_checkpoint(run: RunDir) -> None:
    for path in (run.last_checkpoint, run.best_weights, run.state):
        path.unlink(missing_ok=True)
    if run.checkpoint_dir.exists():
        run.checkpoint_dir.rmdir()
