"""Training batches: shuffled each epoch, augmented on the fly, optionally weighted."""

from __future__ import annotations

import math

import numpy as np

from edgecnn.training import tfdeps
from edgecnn.training.data.augment import AugmentSpec, augment_batch

keras = tfdeps.keras()


class TrainBatches(keras.utils.PyDataset):
    """Yields ``(x, y)`` or ``(x, y, sample_weight)`` batches of the training split.

    ``x`` is model input, or raw audio clips that ``to_input`` augments and turns into it.

    The shuffle order and augmentation are seeded by ``(seed, epoch)``, so a resumed run
    sees the same batches the uninterrupted run would have seen.
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        batch_size: int,
        augment: AugmentSpec,
        seed: int,
        first_epoch: int = 0,
        class_weight: dict[int, float] | None = None,
        one_hot: int | None = None,
        to_input=None,
    ) -> None:
        super().__init__(workers=1, use_multiprocessing=False)
        self.x = x
        self.y = y if one_hot is None else one_hot_labels(y, one_hot)
        self.batch_size, self.augment, self.seed = batch_size, augment, seed
        self.weights = None
        if class_weight:
            self.weights = np.asarray([class_weight[int(c)] for c in y], dtype=np.float32)
        self.epoch = first_epoch
        # audio: x holds raw clips; to_input(raw, rng) augments them and makes model input
        self.to_input = to_input
        self._shuffle()

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index: int):
        idx = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        x = self.x[idx]
        rng = np.random.default_rng([self.seed, self.epoch, index])
        if self.to_input is not None:
            x = self.to_input(x, rng)
        elif self.augment:
            x = augment_batch(x, self.augment, rng)
        if self.weights is None:
            return x, self.y[idx]
        return x, self.y[idx], self.weights[idx]

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._shuffle()

    def _shuffle(self) -> None:
        """A new seeded order of the training samples for the coming epoch."""
        self.order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.x))


def one_hot_labels(y: np.ndarray, num_classes: int) -> np.ndarray:
    """float32 one-hot rows, the targets a label-smoothed loss needs."""
    return np.eye(num_classes, dtype=np.float32)[np.asarray(y, dtype=np.int64)]
