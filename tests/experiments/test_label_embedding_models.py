"""WSABIE and DeViSE as JointEmbedding with a label-table text tower: the batch loss on a
hand-built batch equals the papers' WARP / hinge rank values worked out by hand (and the value
the removed LabelEmbeddingModel gave on the same batch, 0.625 for WARP), the fixed DeViSE table
is unit-norm and not trained, and both models survive model.keras."""

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfembed.experiments.label_embedding_models import (devise_model, label_dataset_fn,
                                                         wsabie_model)
from tfembed.losses.hinge_rank import hinge_rank_loss
from tfembed.losses.warp import warp_loss

LABELS = np.float32([[1, 0], [0, 1], [-1, 0]])


def identity_tower(dim=2):
    x = keras.Input((dim,), name="features")
    return keras.Model(x, keras.layers.Identity()(x))


def wsabie(max_norm=None):
    m = wsabie_model(identity_tower(), 2, 3, margin=1.0, max_norm=max_norm)
    m.image_tower.get_layer("image_map").set_weights([np.eye(2, dtype=np.float32)])
    m.text_tower.get_layer("label_embeddings").set_weights([LABELS])
    return m


# Images [.5, 0] and [0, .5] -> scores [[.5, 0, -.5], [0, .5, 0]] (V = I, W = LABELS).
# Row 0: label 0, positives {0}; candidate 1 violates at trial 1: 1 - .5 + 0 = .5,
#   rank = floor(2 negatives / 1) = 2, L(2) = 1.5 -> 0.75.
# Row 1: label 1, positives {1, 2}; candidate 2 is positive (skipped), candidate 0 violates
#   at trial 1: 1 - .5 + 0 = .5, rank = floor(1 / 1) = 1, L(1) = 1 -> 0.5.  Mean 0.625.
WARP_BATCH = {"image": np.float32([[.5, 0], [0, .5]]), "image_id": np.array([0, 1]),
              "label": np.array([0, 1]), "positive": np.float32([[1, 0, 0], [0, 1, 1]]),
              "candidates": np.array([[1, 2], [2, 0]])}


def test_wsabie_warp_batch_loss_by_hand():
    m = wsabie()
    assert float(m.compute_batch_loss(WARP_BATCH)) == pytest.approx(0.625, rel=1e-6)
    scores = tf.constant([[.5, 0, -.5], [0, .5, 0]])
    pure = warp_loss(scores, WARP_BATCH["positive"], WARP_BATCH["candidates"],
                     WARP_BATCH["label"])
    assert float(tf.reduce_mean(pure)) == pytest.approx(0.625, rel=1e-6)


def test_wsabie_positive_mask_comes_from_the_batch():
    # Without "positive" the mask is image_id == column: label 2 of row 1 becomes a negative,
    # drawn first: 1 - .5 + 0 = .5 with rank floor(2 / 1) = 2 -> 0.75; mean (0.75 + 0.75) / 2.
    batch = {k: v for k, v in WARP_BATCH.items() if k != "positive"}
    assert float(wsabie().compute_batch_loss(batch)) == pytest.approx(0.75, rel=1e-6)


def test_wsabie_max_norm_constrains_map_and_table():
    m = wsabie(max_norm=0.5)
    table = m.text_tower.get_layer("label_embeddings")
    assert table.embeddings_constraint.max_value == 0.5
    assert table.embeddings_constraint.axis == 1  # one norm per label vector
    assert m.image_tower.get_layer("image_map").kernel_constraint.axis == 0
    assert not m.image_tower.get_layer("image_map").use_bias


def test_devise_hinge_rank_by_hand_and_fixed_unit_table():
    # Class vectors [2,0], [0,3], [-1,0] -> unit [1,0], [0,1], [-1,0]; seen classes [0, 2].
    m = devise_model(identity_tower(), np.float32([[2, 0], [0, 3], [-1, 0]]), seen=[0, 2],
                     margin=0.1)
    m.image_tower.get_layer("image_map").set_weights([np.eye(2, dtype=np.float32)])
    np.testing.assert_allclose(np.asarray(m.encode_text(np.arange(3))), LABELS)
    assert not any("class_name_vectors" in v.path for v in m.trainable_variables)
    # Image [1, 0] of class 2 (column 1): scores [1, -1]: [0.1 + 1 + 1]_+ = 2.1;
    # image [0, 2] of class 0 (column 0): scores [0, 0]: [0.1 - 0 + 0]_+ = 0.1. Mean 1.1.
    batch = {"image": np.float32([[1, 0], [0, 2]]), "image_id": np.array([1, 0]),
             "label": np.array([1, 0])}
    assert float(m.compute_batch_loss(batch)) == pytest.approx(1.1, rel=1e-6)
    pure = hinge_rank_loss(tf.constant([[1., -1.], [0., 0.]]), batch["label"], 0.1)
    assert float(tf.reduce_mean(pure)) == pytest.approx(1.1, rel=1e-6)


@pytest.mark.parametrize("which", ["wsabie", "devise"])
def test_model_keras_round_trip(tmp_path, which):
    m = wsabie(max_norm=2.0) if which == "wsabie" else devise_model(
        identity_tower(), np.float32([[2, 0], [0, 3], [-1, 0]]), seen=[0, 2])
    path = str(tmp_path / "model.keras")
    m.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    x = np.float32([[0.3, -1.2], [2.0, 0.5]])
    np.testing.assert_allclose(np.asarray(loaded.encode_image(x)), np.asarray(m.encode_image(x)))
    np.testing.assert_allclose(np.asarray(loaded.encode_text(np.arange(3))),
                               np.asarray(m.encode_text(np.arange(3))))
    np.testing.assert_array_equal(loaded.label_texts, m.label_texts)
    assert loaded.task_name == m.task_name


def test_warp_candidates_are_a_function_of_the_element_index():
    """Resuming at step 1 draws the same candidates as step 1 of an uninterrupted run."""
    rows, labels = np.arange(8), np.zeros(8, np.int64)
    positive = np.eye(8, 5, dtype=bool) | (np.arange(5) == 0)
    fn = label_dataset_fn(lambda r: tf.cast([r, r], tf.float32), rows, labels, positive, 4, 5,
                          batch_size=2, seed=7)
    full = [b["candidates"].numpy() for b in fn(0)]
    resumed = [b["candidates"].numpy() for b in fn(1)]
    np.testing.assert_array_equal(full[1:], resumed)
    assert len({c.tobytes() for c in full}) > 1


def test_mirrored_wsabie_loss_and_gradients_match_single_device():
    """2 CPU replicas: the gathered multi-label mask, candidates and labels give the loss and
    gradients of the single-device global batch (WARP rows are independent, so this fails if
    a replica pairs its rows with another replica's "positive" or "candidates")."""
    script = textwrap.dedent("""
        import numpy as np, tensorflow as tf, keras
        from tfembed.training.strategy import make_strategy
        strategy = make_strategy("mirrored", 2)
        from tfembed.experiments.label_embedding_models import wsabie_model

        def build():
            keras.utils.set_random_seed(0)
            x = keras.Input((6,))
            return wsabie_model(keras.Model(x, keras.layers.Dense(5)(x)), 4, 7, max_norm=3.0)

        rng = np.random.default_rng(0)
        positive = (rng.random((8, 7)) < 0.3).astype("float32")
        label = np.array([rng.choice(np.flatnonzero(p)) if p.any() else 0 for p in positive])
        positive[np.arange(8), label] = 1
        batch = {"image": rng.normal(size=(8, 6)).astype("float32"), "image_id": label,
                 "label": label, "positive": positive,
                 "candidates": rng.integers(0, 7, (8, 5)).astype("int32")}
        single = build()
        with tf.GradientTape() as tape:
            loss1 = single.compute_batch_loss(batch)
        grads1 = tape.gradient(loss1, single.trainable_variables)
        with strategy.scope():
            dist = build()
        dist.set_weights(single.get_weights())
        it = iter(strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensors(batch)))

        @tf.function
        def step(b):
            def fn(x):
                with tf.GradientTape() as tape:
                    loss = dist.compute_batch_loss(x)
                g = tape.gradient(loss, dist.trainable_variables)
                ctx = tf.distribute.get_replica_context()
                return loss, [ctx.all_reduce("sum", gi) for gi in g]
            loss, g = strategy.run(fn, args=(b,))
            local = [strategy.experimental_local_results(x)[0] for x in g]
            return strategy.reduce("sum", loss, None), local
        loss2, grads2 = step(next(it))
        assert strategy.num_replicas_in_sync == 2 and float(loss1) > 0
        np.testing.assert_allclose(loss2.numpy(), loss1.numpy(), rtol=1e-5)
        dense = lambda g: np.asarray(tf.convert_to_tensor(g))  # the table's IndexedSlices
        for a, b in zip(grads1, grads2):
            np.testing.assert_allclose(dense(b), dense(a), rtol=1e-4, atol=1e-6)
        assert np.abs(dense(grads1[-1])).sum() > 0  # the label table is trained
        print("OK", float(loss1))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0 and "OK" in out.stdout, out.stderr[-3000:]
