"""Host classification metrics (scikit-learn underneath) keep edgecnn's conventions."""

import numpy as np

from edgecnn.training import metrics


def test_matrix_keeps_every_class_and_counts_true_rows_predicted_columns():
    matrix = metrics.confusion_matrix([0, 0, 1, 2], [0, 1, 1, 1], 4)
    assert matrix.dtype == np.int64
    assert matrix.tolist() == [[1, 1, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]]


def test_per_class_report_is_zero_where_nothing_divides():
    rows = metrics.per_class_report([0, 0, 1, 2], [0, 1, 1, 1], ["a", "b", "c", "d"])
    assert rows[0] == {"label": "a", "precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    assert rows[1] == {"label": "b", "precision": 0.3333, "recall": 1.0, "f1": 0.5, "support": 1}
    assert rows[2]["precision"] == rows[2]["f1"] == 0.0 and rows[2]["support"] == 1
    assert rows[3] == {"label": "d", "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}


def test_empty_input_gives_zeros_not_an_error():
    assert metrics.accuracy([], []) == 0.0
    assert metrics.confusion_matrix([], [], 2).tolist() == [[0, 0], [0, 0]]
    assert [r["support"] for r in metrics.per_class_report([], [], ["a", "b"])] == [0, 0]
    assert metrics.accuracy([1, 2, 3], [1, 2, 0]) == 2 / 3
