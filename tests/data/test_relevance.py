"""Caption tf-idf relevance: stemming merges word forms, idf by hand, the in-graph layer equals
the numpy vectors, triplets come from the top / bottom of the similarity ranking."""

import numpy as np
import pytest
import tensorflow as tf

from tfembed.data import relevance
from tfembed.errors import ConfigError

CAPS = [["A dog runs on the beach.", "Dogs running on sand"],
        ["A wedding party dances", "The bride at her wedding"],
        ["Two dogs play in the park", "a dog and a ball"],
        ["A bride and groom at a wedding", "wedding guests"]]


def test_stemming_and_idf_by_hand():
    tf_idf = relevance.CaptionTfidf(CAPS)
    assert "dog" in tf_idf.index and "dogs" not in tf_idf.index and "run" in tf_idf.index
    i = tf_idf.index["dog"]
    assert tf_idf.idf[i] == pytest.approx(np.log(1 + 4 / 3))  # in 2 of 4 images
    counts = tf_idf.counts(CAPS)
    assert counts[0, i] == 2 and counts[2, i] == 2 and counts[1, i] == 0
    sim = relevance.similarity(tf_idf.vectors(CAPS))
    np.testing.assert_allclose(np.diag(sim), 1.0, rtol=1e-6)
    assert sim[1, 3] > sim[1, 0] and sim[0, 2] > sim[0, 1]


def test_in_graph_tfidf_matches_numpy():
    tf_idf = relevance.CaptionTfidf(CAPS)
    layer = tf_idf.keras_layer()
    joined = [" ".join(c) for c in CAPS] + ["wedding and dogs", "unknown zebra"]
    got = layer(tf.constant(joined)).numpy()
    want = tf_idf.vectors([[t] for t in joined])
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert np.all(got[-1] == 0)
    # The documented limitation: a surface form never seen in training ("weddings") is out of
    # vocabulary in graph, while the numpy side stems it to "wed".
    assert np.all(layer(tf.constant(["weddings"])).numpy() == 0)
    assert tf_idf.vectors([["weddings"]]).max() > 0


def test_triplets_from_top_and_bottom():
    sim = np.array([[1, .9, .5, .1], [.9, 1, .2, .3], [.5, .2, 1, .0], [.1, .3, .0, 1]])
    trip = relevance.sample_triplets(sim, 200, top_k=1, bottom_k=1, seed=0)
    best = {0: 1, 1: 0, 2: 0, 3: 1}
    worst = {0: 3, 1: 2, 2: 3, 3: 2}
    assert all(best[q] == p and worst[q] == n for q, p, n in trip)
    with pytest.raises(ConfigError):
        relevance.sample_triplets(sim, 5, top_k=2, bottom_k=2)


def test_triplet_judgements_file(tmp_path):
    from tfembed.errors import DataError

    good = tmp_path / "judged.csv"
    good.write_text("# query,a,b,choice\nimg0,img1,img2,1\nimg2,img0,img1,0\n")
    trip, choice = relevance.load_triplet_judgements(str(good), {"img0": 0, "img1": 1, "img2": 2})
    assert trip.tolist() == [[0, 1, 2], [2, 0, 1]] and choice.tolist() == [1, 0]
    bad = tmp_path / "bad.csv"
    bad.write_text("img0,img1,img2,1\nimg0,img9,img2,0\n")
    with pytest.raises(DataError, match="img9") as err:
        relevance.load_triplet_judgements(str(bad), {"img0": 0, "img1": 1, "img2": 2})
    assert err.value.line == 2
