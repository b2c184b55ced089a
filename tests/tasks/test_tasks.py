"""Tasks through JointEmbedding.compute_batch_loss on hand-built towers, against values worked
out by hand from the papers' equations (written out beside each case)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfembed import tasks
from tfembed.errors import ConfigError
from tfembed.models import JointEmbedding


def identity_tower(dim, name):
    x = keras.Input((dim,), name=name)
    return keras.Model(x, keras.layers.Identity()(x))


def model(task, scorer="dot", **kwargs):
    return JointEmbedding(identity_tower(2, "image"), identity_tower(2, "text"), scorer=scorer,
                          task=task, **kwargs)


def batch(v, t, ids, **extra):
    return {"image": np.float32(v), "text": np.float32(t), "image_id": np.array(ids), **extra}


# v = [[1,0],[1,0]], t = [[1,0],[0,1]], classes [0, 1] -> S = [[1,0],[1,0]], margin 1, max:
# image side: row 0: [1 + 0 - 1]_+ = 0; row 1: [1 + S10 - S11]_+ = 2.
# text side: col 0: [1 + S10 - S00]_+ = 1; col 1: [1 + S01 - S11]_+ = 1.
SJE_BATCH = batch([[1, 0], [1, 0]], [[1, 0], [0, 1]], [0, 1])


def test_ds_sje_is_the_mean_of_both_sides():
    assert float(model("ds_sje").compute_batch_loss(SJE_BATCH)) == pytest.approx((1 + 3) / 2)


def test_da_sje_keeps_the_image_side_only():
    assert float(model("da_sje").compute_batch_loss(SJE_BATCH)) == pytest.approx((0 + 2) / 2)


def test_least_squares_is_the_mean_squared_distance_of_the_pairs():
    # ||[0,0]-[1,0]||^2 = 1, ||[1,1]-[1,1]||^2 = 0; the other pair (distance 2) is no positive.
    m = model("least_squares", scorer="neg_sq_distance")
    assert float(m.compute_batch_loss(batch([[0, 0], [1, 1]], [[1, 0], [1, 1]], [5, 7]))) == \
        pytest.approx(0.5)


def test_label_table_with_hinge_rank():
    # Labels [1,0], [0,1], [-1,0]; image [1,0] of label 1: scores [1, 0, -1];
    # DeViSE: [0.1 - 0 + 1]_+ + [0.1 - 0 - 1]_+ = 1.1.
    ids = keras.Input((), dtype="int32")
    table = keras.layers.Embedding(3, 2, name="labels")
    text = keras.Model(ids, table(ids))
    table.set_weights([np.float32([[1, 0], [0, 1], [-1, 0]])])
    m = JointEmbedding(identity_tower(2, "image"), text, task="hinge_rank",
                       task_options={"margin": 0.1}, label_texts=np.arange(3))
    loss = m.compute_batch_loss({"image": np.float32([[1, 0]]), "image_id": np.array([1]),
                                 "label": np.array([1])})
    assert float(loss) == pytest.approx(1.1, rel=1e-6)


def test_triplet_visual_term():
    # q=[1,0], p=[.6,.8], n=[.8,.6]: 0.5 [0.1 - 0.6 + 0.8]_+ = 0.15.
    m = model("triplet", task_options={"margin": 0.1, "text_weight": 0.0})
    b = {"query": np.float32([[1, 0]]), "positive": np.float32([[.6, .8]]),
         "negative": np.float32([[.8, .6]])}
    assert float(m.compute_batch_loss(b)) == pytest.approx(0.15, rel=1e-5)
    # With the text terms (weight 1): tp = n, tn = p gives 0.5 [0.1 - 0.8 + 0.6]_+ = 0,
    # and tq = q gives the visual term again: 0.15 + 0 + 0.15.
    m = model("triplet", task_options={"margin": 0.1, "text_weight": 1.0})
    b.update(query_text=b["query"], positive_text=b["negative"], negative_text=b["positive"])
    assert float(m.compute_batch_loss(b)) == pytest.approx(0.30, rel=1e-5)


def test_every_loss_is_registered_and_unknown_names_are_config_errors():
    assert set(tasks.TASKS) == {"ds_sje", "da_sje", "least_squares", "triplet",
                                "bidirectional_ranking", "structure_preserving", "warp",
                                "hinge_rank"}
    with pytest.raises(ConfigError, match="unknown task.*'nope'"):
        tasks.get("nope")
    with pytest.raises(ConfigError, match="task_options for 'warp'"):
        tasks.get("warp", top_k=3)


def test_config_round_trip_keeps_towers_scorer_and_task():
    i, t = keras.Input((3,)), keras.Input((4,))
    m = JointEmbedding(keras.Model(i, keras.layers.Dense(5)(i)),
                       keras.Model(t, keras.layers.Dense(5)(t)), scorer="cosine",
                       task="bidirectional_ranking", task_options={"margin": 0.3})
    clone = JointEmbedding.from_config(m.get_config())
    clone.set_weights(m.get_weights())
    x, y = np.random.default_rng(0).normal(size=(2, 3)), np.random.default_rng(1).normal(size=(2, 4))
    assert clone.scorer_name == "cosine" and clone.task.options["margin"] == 0.3
    np.testing.assert_allclose(np.asarray(clone.score(clone.encode_image(x), clone.encode_text(y))),
                               np.asarray(m.score(m.encode_image(x), m.encode_text(y))), rtol=1e-6)
    b = {"image": np.float32(x), "text": np.float32(y), "image_id": np.array([0, 1])}
    assert float(clone.compute_batch_loss(b)) == pytest.approx(float(m.compute_batch_loss(b)))
    assert tf.is_tensor(m.compute_batch_loss(b))
