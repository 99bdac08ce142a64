"""Recording-level accuracy from window probabilities."""

import numpy as np

from edgecnn.training.recordings import recording_accuracy


def test_mean_probability_and_vote_can_disagree():
    # Recording 0 (class 0): two weak wrong windows, one confident right one.
    # Recording 1 (class 1): all windows right.
    probs = np.array([[0.45, 0.55], [0.45, 0.55], [0.99, 0.01], [0.1, 0.9], [0.2, 0.8]])
    y = np.array([0, 0, 0, 1, 1])
    groups = np.array([7, 7, 7, 9, 9])
    out = recording_accuracy(probs, y, groups)
    assert out == {
        "recordings": 2,
        "windows_per_recording": 2.5,
        "mean_probability": 1.0,  # mean of recording 0 favours class 0
        "majority_vote": 0.5,  # two of its three windows vote class 1
    }


def test_recording_class_is_its_most_common_window_class():
    probs = np.eye(3)[[1, 1, 1, 2]]
    out = recording_accuracy(probs, np.array([1, 1, 2, 2]), np.array([0, 0, 0, 0]))
    assert out["mean_probability"] == 1.0 and out["majority_vote"] == 1.0


def test_none_without_recordings_or_with_one_window_each():
    probs = np.eye(2)[[0, 1]]
    assert recording_accuracy(probs, np.array([0, 1]), None) is None
    assert recording_accuracy(probs, np.array([0, 1]), np.array([3, 4])) is None
