"""Recording-level accuracy: one decision per recording from the decisions on its windows.

A deployed model that smooths over a recording's windows (``edgecnn run --smooth``) is judged
by what it decides per recording, not per window; this is that figure on the test split.
"""

from __future__ import annotations

import numpy as np


def recording_accuracy(probs: np.ndarray, y: np.ndarray, groups: np.ndarray | None) -> dict | None:
    """Accuracy per recording by mean probability and by majority vote over its windows.

    Args:
        probs: (N, classes) window probabilities.
        y: (N,) true window classes; a recording's class is its most common window class.
        groups: (N,) recording id of each window, or None when the data has no recordings.

    Returns:
        ``{"recordings", "windows_per_recording", "mean_probability", "majority_vote"}``, or
        None when no recording has more than one window (window accuracy already says it all).
    """
    if groups is None or len(groups) == 0:
        return None
    groups = np.asarray(groups)
    ids, counts = np.unique(groups, return_counts=True)
    if counts.max() < 2:
        return None
    mean_hits, vote_hits = 0, 0
    for gid in ids:
        member = groups == gid
        truth = np.bincount(y[member], minlength=probs.shape[1]).argmax()
        mean_hits += int(probs[member].mean(axis=0).argmax() == truth)
        votes = np.bincount(probs[member].argmax(axis=1), minlength=probs.shape[1])
        vote_hits += int(votes.argmax() == truth)  # ties go to the lower class index
    return {
        "recordings": int(len(ids)),
        "windows_per_recording": round(float(counts.mean()), 2),
        "mean_probability": round(mean_hits / len(ids), 4),
        "majority_vote": round(vote_hits / len(ids), 4),
    }
