import numpy as np
import pytest

from tfembed.losses import structured_joint_loss


def slow_reference(scores, labels, symmetric, margin=1.0, violation="max"):
    """Loop version of Reed et al. 2016 Eq. 3-5 over the classes present in the batch."""
    n = len(labels)
    classes = sorted(set(labels))
    out = np.zeros(n)
    for i in range(n):
        sides = [lambda y: np.mean([scores[i, j] for j in range(n) if labels[j] == y])]
        if symmetric:
            sides.append(lambda y: np.mean([scores[j, i] for j in range(n) if labels[j] == y]))
        for side in sides:
            hinges = [max(0.0, (0 if y == labels[i] else margin) + side(y) - scores[i, i])
                      for y in classes]
            out[i] += max(hinges) if violation == "max" else sum(hinges)
    return out


def test_perfect_batch_has_zero_loss():
    scores = np.array([[5.0, 0.0, 0.0], [0.0, 5.0, 0.0], [0.0, 0.0, 5.0]])
    np.testing.assert_allclose(structured_joint_loss(scores, [0, 1, 2]).numpy(), 0.0)


def test_hand_computed_batch():
    # Image 0 (class 0) scores its own text 1, the class-1 text 2: hinge 1 + 2 - 1 = 2.
    scores = np.array([[1.0, 2.0], [0.0, 3.0]])
    image_only = structured_joint_loss(scores, [0, 1], symmetric=False).numpy()
    np.testing.assert_allclose(image_only, [2.0, 0.0])
    # Text side: text 0 vs image 1 scores 0 -> hinge 1 + 0 - 1 = 0; text 1 vs image 0: 1 + 2 - 3 = 0.
    both = structured_joint_loss(scores, [0, 1], symmetric=True).numpy()
    np.testing.assert_allclose(both, [2.0, 0.0])


def test_class_averaging_over_repeated_classes():
    # Two texts of class 1: image 0 compares against their mean (2 + 4) / 2 = 3.
    scores = np.array([[1.0, 2.0, 4.0], [0.0, 9.0, 9.0], [0.0, 9.0, 9.0]])
    loss = structured_joint_loss(scores, [0, 1, 1], symmetric=False).numpy()
    assert loss[0] == pytest.approx(1 + 3 - 1)


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("violation", ["max", "sum"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_loop_reference(symmetric, violation, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, size=9).tolist()
    scores = rng.normal(size=(9, 9))
    got = structured_joint_loss(scores, labels, symmetric, 0.7, violation).numpy()
    np.testing.assert_allclose(got, slow_reference(scores, labels, symmetric, 0.7, violation),
                               rtol=1e-5, atol=1e-6)
