"""Keras callbacks for training runs: progress on stderr and resumable checkpoints."""

from __future__ import annotations

import math
import sys
import time

from edgecnn.core import fileio
from edgecnn.core.console import progress_bar
from edgecnn.training import tfdeps
from edgecnn.training.rundir import RunDir

keras = tfdeps.keras()


class StderrProgress(keras.callbacks.Callback):
    """A progress bar per epoch on a terminal, one summary line per epoch otherwise.

    Progress goes to stderr so that ``--json`` output on stdout stays clean.
    """

    def __init__(self, *, epochs: int, steps: int, stream=None) -> None:
        super().__init__()
        self.epochs, self.steps = epochs, steps
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.started = 0.0
        self.bar = None

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()
        if self.live:
            label = f"epoch {epoch + 1}/{self.epochs}"
            self.bar = progress_bar(self.steps, label=label, stream=self.stream)

    def on_train_batch_end(self, batch, logs=None):
        if self.bar is not None:
            self.bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        if self.bar is not None:
            self.bar.finish_line()
            self.bar = None
        logs = logs or {}
        shown = "  ".join(f"{k} {v:.4f}" for k, v in logs.items() if k != "learning_rate")
        seconds = time.perf_counter() - self.started
        self.stream.write(f"epoch {epoch + 1}/{self.epochs}  {shown}  {seconds:.1f}s\n")
        self.stream.flush()


class RunCheckpoint(keras.callbacks.Callback):
    """Keeps the best weights, saves resumable checkpoints and stops early on validation loss.

    The early-stopping state lives in ``state.json`` beside the checkpoint, so a resumed
    run continues counting patience where the interrupted one stopped. The best weights are
    held in memory and written with the checkpoint after the first epoch, then at most every
    ``save_every_s`` seconds and when training ends: on small data sets an epoch takes less
    time than saving a model, and an interrupted run loses at most that much work.
    """

    def __init__(
        self, run: RunDir, *, patience: int, state: dict | None = None, save_every_s: float = 30
    ) -> None:
        super().__init__()
        self.run, self.patience, self.save_every_s = run, patience, save_every_s
        self.state = state or new_state()
        self.best_weights = None
        self.saved_at, self.saved_epoch = -math.inf, self.state["epoch"]

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        for key, value in logs.items():
            self.state["history"].setdefault(key, []).append(float(value))
        val_loss = float(logs.get("val_loss", math.inf))
        if val_loss < self.state["best_val_loss"]:
            self.state.update(best_val_loss=val_loss, best_epoch=epoch + 1, wait=0)
            self.best_weights = self.model.get_weights()
        else:
            self.state["wait"] += 1
        self.state["epoch"] = epoch + 1
        if self.state["wait"] >= self.patience:
            self.model.stop_training = True
            self.state["stopped_early"] = True
        if time.monotonic() - self.saved_at >= self.save_every_s:
            self._save()

    def on_train_end(self, logs=None):
        if self.state["epoch"] != self.saved_epoch:
            self._save()

    def _save(self) -> None:
        """Writes best weights, the last checkpoint and then the state that refers to them."""
        if self.best_weights is not None:
            current = self.model.get_weights()
            self.model.set_weights(self.best_weights)
            with fileio.atomic_path(self.run.best_weights, suffix=".weights.h5") as tmp:
                self.model.save_weights(tmp)
            self.model.set_weights(current)
            self.best_weights = None
        with fileio.atomic_path(self.run.last_checkpoint, suffix=".keras") as tmp:
            self.model.save(tmp)
        fileio.write_json(self.run.state, self.state)
        self.saved_at, self.saved_epoch = time.monotonic(), self.state["epoch"]


def new_state() -> dict:
    """The checkpoint state of a run that has not trained yet."""
    return {
        "epoch": 0,
        "best_val_loss": math.inf,
        "best_epoch": 0,
        "wait": 0,
        "stopped_early": False,
        "history": {},
    }
