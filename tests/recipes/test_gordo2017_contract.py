"""Gordo & Larlus 2017 on the shared contract: the `triplet` task equals the old
TripletEmbeddingModel loss L_v + w (L_t1 + L_t2) (also over 2 replicas), and a --smoke run
re-exported from its bundle alone (`tfembed export RUN_DIR`) answers embed_image, embed_text
and retrieve_image_text as the trained model does in process, tokenising "red-crowned" as the
training pipeline does."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from tfembed.towers.stem_tfidf import stem_tfidf_tower
from tfembed.losses.triplet import triplet_loss

# The old TripletEmbeddingModel.compute_batch_loss (deleted), with the towers passed in.
OLD_LOSS = textwrap.dedent("""
    def old_loss(visual, textual, batch, margin, w):
        q, p, n = (visual(batch[k]) for k in ("query", "positive", "negative"))
        loss = triplet_loss(q, p, n, margin)
        if w:
            tq, tp, tn = (textual(batch[k + "_text"]) for k in ("query", "positive", "negative"))
            loss += w * (triplet_loss(q, tp, tn, margin) + triplet_loss(tq, p, n, margin))
        return float(tf.reduce_mean(loss))
""")
exec(OLD_LOSS)  # defines old_loss here too


def _towers_and_batch(seed=0):
    from tfembed.experiments import semantic_retrieval_parts as parts

    import keras
    keras.utils.set_random_seed(seed)
    visual = parts.visual_encoder({}, ("features", 5), 3)
    textual = stem_tfidf_tower([0, 1, -1, 2], [1.0, 0.5, 2.0], 3)  # 4 words, 3 terms
    rng = np.random.default_rng(seed)
    batch = {k: rng.normal(size=(8, 5)).astype(np.float32) for k in ("query", "positive", "negative")}
    batch.update({k + "_text": rng.integers(0, 3, (8, 5)).astype(np.float32)
                  for k in ("query", "positive", "negative")})
    return visual, textual, batch


@pytest.mark.parametrize("weight", [0.0, 0.5, 1.0])
def test_triplet_task_equals_the_old_model_loss(weight):
    from tfembed.models import JointEmbedding

    visual, textual, batch = _towers_and_batch()
    model = JointEmbedding(visual, textual, scorer="dot", task="triplet",
                           task_options={"margin": 0.5, "text_weight": weight})
    got = tf.function(lambda b: model.compute_batch_loss(b, training=False))(batch)
    want = old_loss(visual, textual, batch, 0.5, weight)  # noqa: F821
    np.testing.assert_allclose(float(got), want, rtol=1e-5)
    assert want > 0  # the margin is violated somewhere: the check is not 0 == 0


def test_triplet_task_over_two_replicas_equals_one_device():
    script = textwrap.dedent("""
        import numpy as np, tensorflow as tf
        from tfembed.training.strategy import make_strategy
        strategy = make_strategy("mirrored", 2)
        from tfembed.losses.triplet import triplet_loss
        from tfembed.models import JointEmbedding
        from tests.recipes.test_gordo2017_contract import _towers_and_batch
    """) + OLD_LOSS + textwrap.dedent("""
        with strategy.scope():
            visual, textual, batch = _towers_and_batch()
            model = JointEmbedding(visual, textual, task="triplet",
                                   task_options={"margin": 0.5, "text_weight": 1.0})
        it = iter(strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensors(batch)))
        step = tf.function(lambda b: strategy.reduce(
            "sum", strategy.run(lambda x: model.compute_batch_loss(x), args=(b,)), None))
        got, want = float(step(next(it))), old_loss(visual, textual, batch, 0.5, 1.0)
        assert strategy.num_replicas_in_sync == 2 and abs(got - want) < 1e-5 * want, (got, want)
        print("OK", got)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300, cwd=str(__import__("pathlib").Path(__file__).parents[2]))
    assert out.returncode == 0 and "OK" in out.stdout, out.stderr[-3000:]


def test_smoke_run_exports_from_its_bundle_like_the_model_in_process(tmp_path):
    from tfembed.data import pipeline
    from tfembed.experiments import common, semantic_retrieval as sr
    from tfembed.experiments import semantic_retrieval_parts as parts
    from tfembed.export.run_export import export_run
    from tfembed.recipe import run_recipe

    assert run_recipe("gordo2017", ["--smoke", "--workdir", str(tmp_path)]) == 0
    assert not (tmp_path / "export").exists()
    path = export_run(str(tmp_path))["export"]  # the bundle only: no data set reload
    loaded = tf.saved_model.load(path)
    # The model in process: the smoke config rebuilt, the primary (joint) weights restored.
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parents[2] / "recipes"))
    import gordo2017
    cfg = gordo2017.get_config(smoke=True)
    data = sr.prepare(cfg)
    model = sr.build_model(cfg, data, 1.0)
    common.restore_weights(model, str(tmp_path / "joint"))
    rows = data.dataset.splits["test"][:6]
    pixels = data.dataset.images[rows]
    png = tf.stack([tf.io.encode_png(p) for p in pixels])
    want_phi = sr.embed_images(model, data.load_image, rows)
    got_phi = loaded.signatures["embed_image"](image=png)["embedding"].numpy()
    np.testing.assert_allclose(got_phi, want_phi, atol=1e-4)
    texts = ["a red-crowned circle's", "a blue square"] + list(data.text.image_texts[rows[2:]])
    want_theta = parts.encode_texts(model, data.text.side.preprocessor, texts)
    got_theta = loaded.signatures["embed_text"](text=tf.constant(texts))["embedding"].numpy()
    np.testing.assert_allclose(got_theta, want_theta, atol=1e-5)
    # The training pipeline counts "red-crowned" with the same op as the export: red + crowned.
    counts = parts.triplet_dataset_fn(data.load_image, np.asarray(texts, object),
                                      data.text.side.preprocessor, np.zeros((2, 3), np.int64), 2)(0)
    first = next(iter(counts))["query_text"][0].numpy()
    vocab = data.text.side.preprocessor.get_vocabulary()
    assert "crowned" not in vocab and "s" not in vocab  # unknown to the synthetic captions
    assert first[vocab.index("red")] == 1 and first[vocab.index("circle")] == 1
    assert first[0] == 2 and first.sum() == 5  # a, red, circle known; crowned, s unknown
    np.testing.assert_allclose(model.encode_text(first[None]).numpy()[0], want_theta[0], atol=1e-5)
    # retrieve_image_text: l2(phi + theta) against the phi of the test images (the gallery).
    gallery_rows = data.dataset.splits["test"]
    gallery = sr.embed_images(model, data.load_image, gallery_rows)
    out = loaded.signatures["retrieve_image_text"](image=png, text=tf.constant(texts))
    query = want_phi + want_theta
    scores = (query / np.linalg.norm(query, axis=1, keepdims=True)) @ gallery.T
    top = np.argsort(-scores, axis=1, kind="stable")[:, :10]
    np.testing.assert_allclose(out["scores"].numpy(), np.take_along_axis(scores, top, 1), atol=1e-4)
    ids = np.asarray(data.dataset.image_ids)[gallery_rows][top]
    assert (out["ids"].numpy().astype(str) == ids).mean() > 0.9  # near-ties may swap
