"""Post-processing of per-window probabilities: smoothing, threshold, debounce."""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

import numpy as np

from edgecnn.core.errors import BadInputError

UNKNOWN = "unknown"


class Decision(NamedTuple):
    """The result for one window (a named tuple: cheap to make once per window)."""

    label: str
    score: float
    top: list[tuple[str, float]]


class PostProcessor:
    """Averages the last ``smooth`` probability vectors and applies a confidence threshold.

    Args:
        labels: class names.
        smooth: number of windows to average (1 = none).
        threshold: below this top score the label is ``unknown``.
        top_k: how many (label, score) pairs to report.
    """

    def __init__(
        self, labels: list[str], *, smooth: int = 1, threshold: float = 0.0, top_k: int = 3
    ) -> None:
        if smooth < 1 or not 0 <= threshold <= 1 or top_k < 1:
            raise BadInputError(
                f"--smooth ({smooth}) must be >= 1, --threshold ({threshold}) in [0, 1]"
            )
        self.labels, self.threshold, self.top_k = labels, threshold, top_k
        self.history: deque[np.ndarray] = deque(maxlen=smooth)

    def __call__(self, probs: np.ndarray) -> Decision:
        scores = self._smoothed(probs)
        # Stable descending order: a tie goes to the first class, as numpy's argmax (and so
        # the evaluation in edgecnn quantize/pipeline) decides it; int8 scores often tie.
        # Python floats: for a handful of classes a list sort beats numpy's call cost.
        total = sum(scores)
        if total != total:  # NaN (or inf - inf): numpy orders NaN last, Python's sort cannot
            order = np.argsort(-np.asarray(scores), kind="stable").tolist()
        else:
            order = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)
        top = [(self.labels[i], round(scores[i], 4)) for i in order[: self.top_k]]
        best = order[0]
        label = self.labels[best] if scores[best] >= self.threshold else UNKNOWN
        return Decision(label, top[0][1], top)

    def _smoothed(self, probs: np.ndarray) -> list[float]:
        """The mean of the last ``smooth`` probability vectors, as Python floats."""
        self.history.append(np.asarray(probs, dtype=np.float64))
        if len(self.history) == 1:
            return self.history[0].tolist()
        return np.mean(self.history, axis=0).tolist()


class Debounce:
    """Passes a decision only when its label changed, and at most every ``min_interval`` s."""

    def __init__(self, *, min_interval: float = 0.0) -> None:
        self.min_interval = min_interval
        self.last_label: str | None = None
        self.last_time = -float("inf")

    def should_emit(self, label: str, now: float) -> bool:
        if label == self.last_label or now - self.last_time < self.min_interval:
            return False
        self.last_label, self.last_time = label, now
        return True
