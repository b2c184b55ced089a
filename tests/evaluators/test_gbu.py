"""GBU evaluator (ZSL per-class top-1, GZSL u/s/H, N1 hubness) on a hand-built DEM-like model:
identity towers, nearest prototype by squared Euclidean distance, values computed by hand."""

import keras
import numpy as np
import pytest

from tfembed import scorers
from tfembed.evaluators import gbu
from tfembed.models import JointEmbedding


def identity_model(dim=2):
    towers = []
    for name in ("image", "text"):
        x = keras.Input((dim,), name=name)
        towers.append(keras.Model(x, keras.layers.Identity()(x)))
    return JointEmbedding(*towers, scorer="neg_sq_distance", task="least_squares")


# Class prototypes in the visual space: seen 0, 1; unseen 2, 3, 4.
PROTOTYPES = np.array([[0, 0], [10, 0], [0, 10], [10, 10], [20, 20]], np.float32)
# rows 0-3, 7: test_unseen; rows 4-6: test_seen.
IMAGES = np.array([[1, 9], [4, 6], [6, 4], [2, 9], [1, 1], [9, 1], [4, 4], [19, 19]], np.float32)
LABELS = np.array([2, 2, 3, 3, 0, 1, 1, 4])
SPLITS = {"test_unseen": np.array([0, 1, 2, 3, 7]), "test_seen": np.array([4, 5, 6])}
SEEN, UNSEEN = np.array([0, 1]), np.array([2, 3, 4])


def test_gbu_metrics_by_hand():
    model = identity_model()
    images = np.asarray(model.encode_image(IMAGES))
    protos = np.asarray(model.encode_text(PROTOTYPES))
    out, chance = gbu.evaluate(model, images, protos, LABELS, SPLITS, SEEN, UNSEEN)
    # Among unseen classes: rows 0, 1 -> 2 (right), row 2 -> 3 (d^2 52 < 72, right),
    # row 3 -> 2 (d^2 5, wrong), row 7 -> 4 (right): per class (1 + 1/2 + 1) / 3.
    assert out["zsl_top1_per_class"] == pytest.approx(5 / 6)
    # N1 of the unseen prototypes: [3, 1, 1] -> mean 5/3, m2 = 8/9, m3 = 16/27: skew 1/sqrt(2).
    assert out["hubness_n1_skewness"] == pytest.approx(1 / np.sqrt(2), rel=1e-6)
    # All five classes: row 2 -> class 1 (d^2 32 < 52, a seen class wins), row 3 -> 2:
    # u = (2/2 + 0/2 + 1/1) / 3. Seen: row 4 -> 0, row 5 -> 1, row 6 -> 0 (32 < 52):
    # s = (1 + 1/2) / 2. H = 2us / (u + s) = 12/17.
    assert out["gzsl_u"] == pytest.approx(2 / 3)
    assert out["gzsl_s"] == pytest.approx(3 / 4)
    assert out["gzsl_h"] == pytest.approx(12 / 17)
    assert chance["zsl_top1_per_class"] == pytest.approx(1 / 3)
    assert chance["gzsl_h"] == pytest.approx(1 / 5)
    assert chance["hubness_n1_skewness"] == gbu.random_hubness((5, 3), 0)


def test_suffix_scorer_and_no_gzsl_without_test_seen():
    model = identity_model()
    splits = {"test_unseen": SPLITS["test_unseen"]}
    out, chance = gbu.evaluate(model, IMAGES, PROTOTYPES, LABELS, splits, SEEN, UNSEEN,
                               suffix="_cosine", scorer=scorers.cosine)
    assert set(out) == set(chance) == {"zsl_top1_per_class_cosine", "hubness_n1_skewness_cosine"}
    # Cosine: row 0 (1, 9) -> class 2 (0, 1); rows 1, 2, 7 -> class 3 or 4 (same direction
    # (1, 1): the lower id, 3, wins the tie); row 3 (2, 9) -> 2. Class 2: 1/2 (row 1 wrong),
    # class 3: 1/2 (row 3 wrong), class 4: 0 (row 7 -> 3).
    assert out["zsl_top1_per_class_cosine"] == pytest.approx((1 / 2 + 1 / 2 + 0) / 3)


def test_class_top1_scores_only_the_classes_of_the_rows():
    score_fn = gbu.embedding_score_fn(scorers.neg_sq_distance, IMAGES, PROTOTYPES)
    # Rows 4-6 among classes {0, 1}: row 6 (4, 4) -> 0 (32 < 52), wrong; per class (1 + 1/2) / 2.
    assert gbu.class_top1(score_fn, LABELS, np.array([4, 5, 6])) == pytest.approx(3 / 4)
