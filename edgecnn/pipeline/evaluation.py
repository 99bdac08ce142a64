"""The evaluation every variant is judged by: the trained Keras model's reference predictions
on the validation split (which ranks the variants) and on the held-out test split (which only
reports on them), accuracy, and the predictions recorded for each variant."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgecnn.core.errors import BadInputError
from edgecnn.pipeline.result import PipelineResult
from edgecnn.pipeline.steps import StepCache
from edgecnn.training import metrics
from edgecnn.training.rundir import RunDir, load_labels, read_object


def reference(run: RunDir) -> dict:
    """The true classes of the validation and test splits and the trained Keras model's
    predictions on both: what every variant is compared to."""
    from edgecnn.training.modelio import load_keras_model
    from edgecnn.training.runs import load_run
    from edgecnn.training.train import predict_classes

    record, prepared = load_run(run)
    model = load_keras_model(run.model)
    truth, val_truth = prepared.arrays.y["test"], prepared.arrays.y["val"]
    predicted = predict_classes(model, prepared.inputs("test"))
    val_accuracy = accuracy(val_truth, predict_classes(model, prepared.inputs("val")))
    report = read_object(run.report)
    return {
        "accuracy": accuracy(truth, predicted),
        "truth": truth.tolist(),
        "predictions": predicted.tolist(),
        "val_accuracy": val_accuracy,
        "val_truth": val_truth.tolist(),
        "fingerprint": record["data"].get("fingerprint"),
        "params": report["params"],
        "macs": report["macs"],
        "train_seconds": report["train_seconds"],
    }


def accuracy(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Top-1 accuracy, rounded to 4 digits as every report shows it."""
    return round(metrics.accuracy(truth, predicted), 4)


def held_out_predictions(folder: str | Path, variant: str) -> np.ndarray:
    """The class indices a pipeline's evaluation predicted for one variant's test split.

    Raises:
        BadInputError: the folder holds no evaluation of ``variant``.
    """
    entry = StepCache(Path(folder), log=lambda _: None).steps.get(f"quantize {variant}")
    if entry is None:
        raise BadInputError(f"{folder} holds no pipeline evaluation of {variant!r}")
    return np.asarray(entry["value"]["predictions"])


def chosen_confusion(result: PipelineResult, trained: dict, run: RunDir) -> np.ndarray | None:
    """The chosen variant's confusion matrix on the test split (None: nothing was chosen)."""
    if result.chosen is None:
        return None
    predicted = held_out_predictions(result.folder, result.chosen)
    return metrics.confusion_matrix(np.asarray(trained["truth"]), predicted, len(load_labels(run)))
