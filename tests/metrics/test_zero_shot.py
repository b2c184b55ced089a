"""Zero-shot metrics on hand-made score matrices and loop references."""

import numpy as np
import pytest

from tfembed.metrics import zero_shot as Z


def test_class_means_absent_rows_zero():
    emb = np.array([[1.0, 2.0], [3.0, 4.0], [10.0, 0.0]])
    out = Z.class_means(emb, np.array([2, 2, 0]), 4)
    np.testing.assert_allclose(out, [[10, 0], [0, 0], [2, 3], [0, 0]])
    assert out.dtype == np.float64
    with pytest.raises(ValueError):
        Z.class_means(emb, np.array([0, 1, 4]), 4)


def test_top1_perfect_all_wrong_and_ties():
    scores = np.eye(3)
    assert Z.top1_per_image(scores, np.array([0, 1, 2])) == 1.0
    assert Z.top1_per_image(scores, np.array([1, 2, 0])) == 0.0
    # A tie goes to the lowest class index.
    tie = np.array([[0.5, 0.5, 0.0]])
    assert Z.top1_per_image(tie, np.array([0])) == 1.0
    assert Z.top1_per_image(tie, np.array([1])) == 0.0


def test_per_image_vs_per_class_on_imbalance():
    # Class 0: 3 images all right; class 1: 1 image wrong; class 2 absent.
    scores = np.array([[1, 0, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0.0]])
    labels = np.array([0, 0, 0, 1])
    assert Z.top1_per_image(scores, labels) == pytest.approx(0.75)
    assert Z.top1_per_class(scores, labels) == pytest.approx(0.5)  # absent class 2 ignored


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_per_class_matches_loop(seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 3, size=(40, 7)).astype(float)
    labels = rng.integers(0, 6, size=40)
    accs = []
    for c in sorted(set(labels.tolist())):
        rows = [i for i in range(40) if labels[i] == c]
        accs.append(np.mean([int(np.argmax(scores[i])) == c for i in rows]))
    assert Z.top1_per_class(scores, labels) == pytest.approx(np.mean(accs))
    assert Z.top1_per_image(scores, labels) == pytest.approx(
        np.mean([int(np.argmax(scores[i])) == labels[i] for i in range(40)]))


def test_gzsl_hand():
    # seen {0, 1}, unseen {2, 3}; column 4 belongs to neither and is ignored.
    scores = np.array([
        [9, 0, 0, 0, 99],  # seen 0  -> 0 right
        [0, 0, 9, 0, 99],  # seen 0  -> 2 wrong (predicted an unseen class)
        [0, 9, 0, 0, 99],  # seen 1  -> 1 right
        [0, 0, 9, 0, 99],  # unseen 2 -> 2 right
        [9, 0, 0, 0, 99],  # unseen 3 -> 0 wrong (pulled to seen)
        [0, 0, 0, 9, 99],  # unseen 3 -> 3 right
    ], dtype=float)
    labels = np.array([0, 0, 1, 2, 3, 3])
    out = Z.gzsl(scores, labels, [0, 1], [2, 3], [0, 1, 2], np.arange(6) >= 3)
    s, u = (0.5 + 1.0) / 2, (1.0 + 0.5) / 2  # per-class, not per-image (2/3 each)
    assert out["gzsl_s"] == pytest.approx(s) and out["gzsl_u"] == pytest.approx(u)
    assert out["gzsl_h"] == pytest.approx(2 * u * s / (u + s))


def test_gzsl_zero_harmonic_and_asymmetric():
    scores = np.array([[0, 1.0], [1.0, 0]])
    out = Z.gzsl(scores, np.array([0, 1]), [0], [1], [0], [1])
    assert out == {"gzsl_u": 0.0, "gzsl_s": 0.0, "gzsl_h": 0.0}
    out = Z.gzsl(np.array([[1.0, 0], [1.0, 0]]), np.array([0, 1]), [0], [1], [0], [1])
    assert out["gzsl_s"] == 1.0 and out["gzsl_u"] == 0.0 and out["gzsl_h"] == 0.0


def test_chance_top1():
    assert Z.chance_top1(50) == 0.02
    with pytest.raises(ValueError):
        Z.chance_top1(0)
