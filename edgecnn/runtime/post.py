"""Post-processing of per-window probabilities: smoothing, threshold, debounce."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from edgecnn.errors import BadInputError

UNKNOWN = "unknown"


@dataclass(frozen=True)
class Decision:
    """The result for one window."""

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
        self.history.append(np.asarray(probs, dtype=np.float64))
        mean = self.history[0] if len(self.history) == 1 else np.mean(self.history, axis=0)
        # Stable descending order: a tie goes to the first class, as numpy's argmax (and so
        # the evaluation in edgecnn quantize/pipeline) decides it; int8 scores often tie.
        order = np.argsort(-mean, kind="stable")[: self.top_k]
        best = int(order[0])
        label = self.labels[best] if mean[best] >= self.threshold else UNKNOWN
        return Decision(
            label,
            round(float(mean[best]), 4),
            [(self.labels[i], round(float(mean[i]), 4)) for i in order],
        )


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
