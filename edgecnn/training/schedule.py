"""How long a run trains: epochs, early-stopping patience and the learning-rate decay.

A fixed epoch count under-trains small data sets: 40 epochs of a 150-sample set are 200
optimizer steps, a tenth of what the published time-series baselines take. Unless the user
sets them, the epoch budget therefore grows until the run gets ``MIN_STEPS`` steps, and
patience grows with it; early stopping on validation loss still ends a run that has
converged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from edgecnn.core.records import Record

MIN_EPOCHS = 40  # the floor: what large sets (e.g. 1,300 digit images) already get
MIN_STEPS = 1600  # 40 epochs x 40 batches, the steps a 1,300-sample set gets in 40 epochs
MAX_AUTO_EPOCHS = 400  # a 2-batch set stops here: 800 steps, minutes on a CPU
MIN_PATIENCE = 8
PATIENCE_SHARE = 8  # automatic patience is an eighth of the epoch budget


@dataclass(frozen=True)
class EpochPlan(Record):
    """The resolved epoch budget of a run and where each figure came from."""

    epochs: int
    patience: int
    steps_per_epoch: int
    automatic: bool


def plan_epochs(
    train_samples: int, batch_size: int, epochs: int | None, patience: int | None
) -> EpochPlan:
    """Epochs and patience: the given ones, or enough for ``MIN_STEPS`` optimizer steps."""
    steps = max(1, math.ceil(train_samples / batch_size))
    automatic = epochs is None or patience is None
    if epochs is None:
        epochs = min(MAX_AUTO_EPOCHS, max(MIN_EPOCHS, math.ceil(MIN_STEPS / steps)))
    if patience is None:
        patience = max(MIN_PATIENCE, epochs // PATIENCE_SHARE)
    return EpochPlan(epochs, patience, steps, automatic=automatic)


def learning_rate(keras, lr: float, plan: EpochPlan):
    """Cosine decay over the planned steps: steadier last epochs than a constant rate."""
    total = plan.steps_per_epoch * plan.epochs
    return keras.optimizers.schedules.CosineDecay(lr, decay_steps=total, alpha=0.02)
