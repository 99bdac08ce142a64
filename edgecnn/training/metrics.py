"""Classification metrics for host tooling, computed by scikit-learn."""

from __future__ import annotations

import numpy as np

from edgecnn.core.optional import require


def _sklearn_metrics():
    return require("sklearn.metrics", extra="train", package="scikit-learn")


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts with true classes as rows and predicted classes as columns (every class kept)."""
    if np.asarray(y_true).size == 0:  # scikit-learn refuses empty input
        return np.zeros((num_classes, num_classes), dtype=np.int64)
    matrix = _sklearn_metrics().confusion_matrix(
        np.asarray(y_true, int), np.asarray(y_pred, int), labels=np.arange(num_classes)
    )
    return matrix.astype(np.int64)


def per_class_report(y_true: np.ndarray, y_pred: np.ndarray, labels: list[str]) -> list[dict]:
    """Precision, recall, F1 and support per class; 0 where a ratio has nothing to divide."""
    if np.asarray(y_true).size == 0:
        return [_row(label, 0, 0, 0, 0) for label in labels]
    precision, recall, f1, support = _sklearn_metrics().precision_recall_fscore_support(
        np.asarray(y_true, int),
        np.asarray(y_pred, int),
        labels=np.arange(len(labels)),
        zero_division=0,
    )
    return [_row(*row) for row in zip(labels, precision, recall, f1, support, strict=True)]


def _row(label: str, precision: float, recall: float, f1: float, support: int) -> dict:
    return {
        "label": label,
        "precision": round(float(precision), 4),
        "recall": round(float(recall), 4),
        "f1": round(float(f1), 4),
        "support": int(support),
    }


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of equal entries; 0.0 for empty input."""
    if np.asarray(y_true).size == 0:
        return 0.0
    return float(_sklearn_metrics().accuracy_score(y_true, y_pred))
