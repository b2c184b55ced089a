"""Karpathy 2015 and Wang 2016 on the shared contract: JointEmbedding with the recipes' towers,
scorer and task gives the loss the removed ImageSentenceModel computed (its
compute_batch_loss is ported below as the reference), the "alignment" scorer is S_kl, and a
run's bundle re-exports (tfembed export RUN_DIR) to signatures that agree with the model."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfembed import scorers
from tfembed.layers.two_branch import embedding_branch
from tfembed.losses.bidirectional_ranking import bidirectional_ranking_loss
from tfembed.losses.structure_preserving import structure_preserving_loss
from tfembed.models import JointEmbedding
from tfembed.towers.regions import region_encoder
from tfembed.towers.word_sequence import brnn_word_encoder

WANG = {"margin": 0.1, "top_k": 3, "weights": [1.0, 2.0], "within_weight": 0.1}
KARPATHY = {"margin": 1.0, "violation": "sum", "weights": [1.0, 1.0]}


def _old_loss(kind, image_tower, text_tower, batch, options):
    """ImageSentenceModel.compute_batch_loss (one replica) with text [B, m, ...]."""
    text = batch["text"]
    m = text.shape[1]
    v = image_tower(batch["image"], training=False)
    t = text_tower(tf.reshape(text, [-1, *text.shape[2:]]), training=False)
    ids = tf.cast(batch["image_id"], tf.int64)
    text_ids = tf.repeat(ids, m)
    if kind == "two_branch":
        return structure_preserving_loss(v @ tf.transpose(t), t @ tf.transpose(t), ids, text_ids,
                                         **options)
    slow = np.array([[sum(max(float(r @ w) for r in vi) for w in tj) for tj in t.numpy()]
                     for vi in v.numpy()])
    return tf.reduce_mean(bidirectional_ranking_loss(tf.constant(slow, tf.float32), ids,
                                                     text_ids, **options))


def _flat(batch):
    text, ids = batch["text"], batch["image_id"]
    return {"image": batch["image"], "image_id": ids,
            "text": tf.reshape(text, [-1, *text.shape[2:]]),
            "text_id": tf.repeat(ids, text.shape[1])}


def test_wang_structure_preserving_loss_equals_the_old_model():
    keras.utils.set_random_seed(0)
    branch = {"hidden": 16, "output": 8, "batch_norm": False, "dropout": 0.0}
    image, text = embedding_branch(6, name="image", **branch), embedding_branch(5, name="text", **branch)
    model = JointEmbedding(image, text, scorer="dot", task="structure_preserving", task_options=WANG)
    rng = np.random.default_rng(0)
    batch = {"image": tf.constant(rng.normal(size=(5, 6)), tf.float32),
             "text": tf.constant(rng.normal(size=(5, 2, 5)), tf.float32),
             "image_id": tf.constant([3, 8, 1, 3, 6])}  # image 3 twice (an epoch boundary)
    want = float(_old_loss("two_branch", image, text, batch, WANG))
    got = float(model.compute_batch_loss(_flat(batch), training=False))
    assert want > 0 and got == pytest.approx(want, rel=1e-5)


def test_karpathy_alignment_ranking_loss_equals_the_old_model():
    keras.utils.set_random_seed(1)
    image = region_encoder(None, (3, 7), 4)
    text = brnn_word_encoder(20, 6, 4, units=5, word_dim=3)
    model = JointEmbedding(image, text, scorer="alignment", task="bidirectional_ranking",
                           task_options=KARPATHY)
    rng = np.random.default_rng(1)
    ids = rng.integers(2, 20, size=(4, 2, 6))
    ids[:, :, 4:] = 0  # padding
    batch = {"image": tf.constant(rng.normal(size=(4, 3, 7)), tf.float32),
             "text": tf.constant(ids, tf.int64), "image_id": tf.constant([0, 1, 2, 3])}
    want = float(_old_loss("alignment", image, text, batch, KARPATHY))
    got = float(model.compute_batch_loss(_flat(batch), training=False))
    assert want > 0 and got == pytest.approx(want, rel=1e-5)


def test_alignment_scorer_is_s_kl():
    regions = np.array([[[1.0, 0.0], [0.0, 2.0]]], np.float32)
    words = np.array([[[3.0, 1.0], [0.0, 1.0], [0.0, 0.0]]], np.float32)
    # word 1: max(3, 2) = 3; word 2: max(0, 2) = 2; the zero padding word adds 0
    np.testing.assert_allclose(scorers.get("alignment")(regions, words).numpy(), [[5.0]])


def _smoke(recipe, tmp_path, *args):
    from tfembed.recipe import run_recipe

    assert run_recipe(recipe, ["--smoke", "--workdir", str(tmp_path), *args]) == 0
    return json.loads((tmp_path / "results.json").read_text())


@pytest.mark.parametrize("recipe", ["wang2016", "karpathy2015"])
def test_run_bundle_reexports_and_agrees_with_the_model(recipe, tmp_path):
    from tfembed.export import run_bundle
    from tfembed.export.run_export import export_run

    _smoke(recipe, tmp_path, "--set", "data.num_test=12")
    path = export_run(str(tmp_path))["export"]
    loaded = tf.saved_model.load(path)
    model, pre, kwargs = run_bundle.load(str(tmp_path))
    texts = tf.constant(["a red circle above a blue square", "red-crowned bird's wing", ""])
    want = model.encode_text(pre(texts)).numpy()
    got = loaded.signatures["embed_text"](text=texts)["embedding"].numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)
    names, gallery = kwargs["gallery"]
    scores = model.score(tf.constant(gallery), tf.constant(want)).numpy().T
    top = loaded.signatures["retrieve"](text=texts)
    np.testing.assert_allclose(top["scores"].numpy(), -np.sort(-scores, axis=1)[:, :10],
                               atol=1e-4)
    assert [n.decode() for n in top["ids"].numpy()[0]] == [
        names[i] for i in np.argsort(-scores[0], kind="stable")[:10]]
    pixels = np.random.default_rng(0).integers(0, 256, (2, 64, 64, 3)).astype(np.uint8)
    png = tf.stack([tf.io.encode_png(p) for p in pixels])
    tower = kwargs.get("image_fn", model.encode_image)  # karpathy: grid regions in the graph
    want = np.asarray(tower(tf.constant(pixels, tf.float32)))
    got = loaded.signatures["embed_image"](image=png)["embedding"].numpy()
    np.testing.assert_allclose(got, want, atol=1e-4)
    assert got.shape[:2] == ((2, 4) if recipe == "karpathy2015" else (2, 16))
