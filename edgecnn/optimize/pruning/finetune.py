"""Fine-tuning a pruned model on its run's training split, the way the run trained."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from edgecnn.optimize.pruning.magnitude import ConstantSparsity, PolynomialDecay
from edgecnn.training import tfdeps
from edgecnn.training.batches import TrainBatches
from edgecnn.training.data.augment import parse_augment
from edgecnn.training.prepare import PreparedData
from edgecnn.training.trainconfig import TrainConfig

keras = tfdeps.keras()

# Sparsity reaches its target after this share of the fine-tuning steps; the rest lets the
# remaining weights recover at the final sparsity.
RAMP_SHARE = 2 / 3
MASK_UPDATES = 10


def training_batches(prepared: PreparedData, config: TrainConfig) -> TrainBatches:
    """The run's training split in batches, with the run's own augmentation and seed."""
    return TrainBatches(
        prepared.inputs("train"),
        prepared.arrays.y["train"],
        batch_size=config.batch_size,
        augment=parse_augment(config.augment, prepared.preprocessing.kind),
        seed=config.seed,
    )


def finetune(
    model: Any,
    *,
    batches: TrainBatches,
    prepared: PreparedData,
    config: TrainConfig,
    epochs: int,
    lr: float,
    callbacks: Sequence[Any] = (),
    log: Callable[[str], None],
) -> dict[str, list[float]]:
    """Compiles ``model`` with Adam at ``lr`` and fits it; returns the per-epoch history.

    Zero epochs leave the model untouched and return an empty history.
    """
    if epochs == 0:
        return {}
    keras.utils.set_random_seed(config.seed)
    model.compile(
        optimizer=keras.optimizers.Adam(lr),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        batches,
        validation_data=(prepared.inputs("val"), prepared.arrays.y["val"]),
        epochs=epochs,
        callbacks=[*callbacks, EpochLog(log, epochs)],
        verbose=0,
    )
    return {k: [round(float(v), 4) for v in vs] for k, vs in history.history.items()}


def sparsity_schedule(sparsity: float, *, steps: int) -> ConstantSparsity | PolynomialDecay:
    """A TF-MOT style polynomial ramp to ``sparsity`` over the first 2/3 of ``steps``.

    About ten mask updates; the end step is a multiple of the update frequency so the
    ramp's last update lands exactly on the target.
    """
    ramp = int(steps * RAMP_SHARE)
    frequency = max(1, ramp // MASK_UPDATES)
    end = frequency * max(1, ramp // frequency)
    if end >= steps:  # too few steps to ramp: prune to the target at once
        return ConstantSparsity(sparsity, begin_step=0, frequency=frequency)
    return PolynomialDecay(0.0, sparsity, begin_step=0, end_step=end, frequency=frequency)


class EpochLog(keras.callbacks.Callback):
    """One line per fine-tuning epoch through ``log``."""

    def __init__(self, log: Callable[[str], None], epochs: int) -> None:
        super().__init__()
        self.log, self.epochs = log, epochs

    def on_epoch_end(self, epoch, logs=None):
        shown = "  ".join(
            f"{k} {v:.4f}" for k, v in (logs or {}).items() if k != "learning_rate"
        )  # fmt: skip
        self.log(f"fine-tune epoch {epoch + 1}/{self.epochs}  {shown}")
