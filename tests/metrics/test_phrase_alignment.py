"""Phrase-to-box accuracy on hand-counted cases."""

import numpy as np
import pytest

from tfembed.metrics.phrase_alignment import box_accuracy


def test_hand_counted_accuracy_and_chance():
    assignments = [np.array([0, 1, 1, 2]), np.array([3, 3, 0])]
    targets = [np.array([-1, 1, 2, 2]),  # 3 scored, 2 right; image with 3 regions
               np.array([3, -1, 1])]     # 2 scored, 1 right; image with 4 regions
    out = box_accuracy(assignments, targets, [3, 4])
    assert out["words"] == 5
    assert out["accuracy"] == pytest.approx(3 / 5)
    assert out["chance"] == pytest.approx((3 / 3 + 2 / 4) / 5)


def test_no_scored_words_and_errors():
    assert box_accuracy([np.array([0, 1])], [np.array([-1, -1])], [2]) == \
        {"accuracy": None, "chance": None, "words": 0}
    assert box_accuracy([], [], [])["words"] == 0
    with pytest.raises(ValueError, match="one entry per sentence"):
        box_accuracy([np.array([0])], [], [1])
    with pytest.raises(ValueError, match="assignments but"):
        box_accuracy([np.array([0, 1])], [np.array([0])], [2])
    with pytest.raises(ValueError, match="below num_regions"):
        box_accuracy([np.array([0])], [np.array([2])], [2])
