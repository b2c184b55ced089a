"""Reed 2016's zero-shot protocol on hand-built embeddings, with hand-computed values."""

import numpy as np
import pytest

from tfembed.evaluators.zero_shot import zero_shot_metrics


def dot(a, b):
    return np.asarray(a) @ np.asarray(b).T


def hand_case():
    # Two unseen classes (ids 7 and 9), three images each, two descriptions each. Text
    # embeddings are one-hot per class, so the class-mean query of class c is e_c, and an
    # image's score for class c is its c-th coordinate.
    images = np.array([[3, 0], [2, 0], [0, 1],     # class 7: two right, one looks like 9
                       [0, 4], [1, 0], [0, 2.5]])  # class 9: two right, one looks like 7
    labels = np.array([7, 7, 7, 9, 9, 9])
    texts = np.array([[1, 0], [1, 0], [0, 1], [0, 1.0]])
    text_labels = np.array([7, 7, 9, 9])
    return images, texts, labels, text_labels


def test_reed_protocol_by_hand():
    images, texts, labels, text_labels = hand_case()
    out, chance = zero_shot_metrics(dot, images, texts, labels, text_labels, single_queries=0)
    # Top-1: images 0, 1, 3, 5 right; 2 and 4 wrong -> 4/6; per class (2/3 + 2/3) / 2.
    assert out["zsl_top1_per_image"] == pytest.approx(4 / 6)
    assert out["zsl_top1_per_class"] == pytest.approx(2 / 3)
    assert chance["zsl_top1_per_image"] == 0.5
    # Query 7 ranks images 0 (3), 1 (2), 4 (1), then 2, 3, 5 (0, index order):
    # relevance 1, 1, 0, 1, 0, 0. Query 9 ranks 3 (4), 5 (2.5), 2 (1), 0, 1, 4:
    # relevance 1, 1, 0, 0, 0, 1.
    # Reed's AP@K = precision@K: K=1 -> 1; K=5 -> (3/5 + 2/5) / 2 = 1/2; K=50 -> all 6: 1/2.
    assert out["retrieval_ap@1"] == 1.0
    assert out["retrieval_ap@5"] == pytest.approx(0.5)
    assert out["retrieval_ap@50"] == pytest.approx(0.5)
    assert chance["retrieval_ap@50"] == pytest.approx(0.5)  # R/N = 3/6 for each query
    # Truncated AP@5 stays available: query 7 (1 + 1 + 3/4) / 3, query 9 (1 + 1) / 3.
    assert out["retrieval_map@5"] == pytest.approx(((2 + 3 / 4) / 3 + 2 / 3) / 2)


def test_single_description_queries_by_hand():
    images, texts, labels, text_labels = hand_case()
    out, chance = zero_shot_metrics(dot, images, texts, labels, text_labels, single_queries=4)
    # Every description equals its class mean here, so each query's precision@50 (over all
    # 6 images) is 3/6.
    assert out["retrieval_single_query_ap@50"] == pytest.approx(0.5)
    assert chance["retrieval_single_query_ap@50"] == pytest.approx(0.5)
    assert "retrieval_single_query_map@50" in out


def test_chance_of_reed_ap_is_the_class_share():
    # 10 classes x 30 images: a random ranking puts 3 of every 30 images of a class per K.
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 30)
    images = rng.normal(size=(300, 8))
    texts = rng.normal(size=(20, 8))
    out, chance = zero_shot_metrics(dot, images, texts, labels, np.repeat(np.arange(10), 2),
                                    single_queries=0)
    assert chance["retrieval_ap@50"] == pytest.approx(0.1)
    assert chance["zsl_top1_per_image"] == pytest.approx(0.1)
