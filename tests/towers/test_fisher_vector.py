"""Fisher-vector sentence features (towers.fisher_vector, text.features=fisher_vector):
the reference is the Fisher score, the graph agrees with the slow per-word loop, 2·K·D dims,
power + L2 normalisation, EM, PCA, a SavedModel of core ops, and the wang2016 recipe."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfembed.config import check_choices
from tfembed.errors import ConfigError
from tfembed.recipe import run_recipe
from tfembed.towers import fisher_vector as fv
from tfembed.towers import text as text_towers


def _random_gmm(rng, k, d):
    w = rng.uniform(0.5, 1.5, k)
    return fv.GMM(w / w.sum(), rng.normal(0, 1.0, (k, d)), rng.uniform(0.5, 2.0, (k, d)), None)


def _score(x, gmm, weights=None, means=None, stds=None):
    """Average log-likelihood of the rows of x, optionally with replaced parameters."""
    means = gmm.means if means is None else means
    var = gmm.variances if stds is None else stds ** 2
    return fv.gmm_log_likelihood(x, fv.GMM(gmm.weights, means, var, None))


def test_reference_is_the_fisher_normalised_gradient_of_the_log_likelihood():
    # G_mu = sigma / sqrt(w) * dL/dmu and G_sigma = sigma / sqrt(2 w) * dL/dsigma, with L the
    # average log-likelihood of the words: central differences on L, not the formulas.
    rng = np.random.default_rng(0)
    gmm = _random_gmm(rng, 2, 3)
    x = rng.normal(0, 1.2, (5, 3))
    got = fv.fisher_vector_reference(x, gmm, normalize=False)
    std, eps = np.sqrt(gmm.variances), 1e-6
    d_mu, d_sigma = np.zeros_like(std), np.zeros_like(std)
    for k in range(2):
        for j in range(3):
            step = np.zeros_like(std)
            step[k, j] = eps
            d_mu[k, j] = (_score(x, gmm, means=gmm.means + step)
                          - _score(x, gmm, means=gmm.means - step)) / (2 * eps)
            d_sigma[k, j] = (_score(x, gmm, stds=std + step)
                             - _score(x, gmm, stds=std - step)) / (2 * eps)
    want = np.concatenate([(std * d_mu / np.sqrt(gmm.weights)[:, None]).ravel(),
                           (std * d_sigma / np.sqrt(2 * gmm.weights)[:, None]).ravel()])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_single_component_reference_by_hand():
    # K = 1: every posterior is 1, so G_mu = mean z and G_sigma = mean(z^2 - 1) / sqrt(2).
    gmm = fv.GMM(np.array([1.0]), np.array([[1.0, -1.0]]), np.array([[4.0, 1.0]]), None)
    x = np.array([[3.0, 0.0], [1.0, -3.0]])  # z = [1, 1] and [0, -2]
    got = fv.fisher_vector_reference(x, gmm, normalize=False)
    np.testing.assert_allclose(got, [0.5, -0.5, (0 + -1) / 2 / np.sqrt(2), (0 + 3) / 2 / np.sqrt(2)])


def test_power_and_l2_normalisation_by_hand():
    np.testing.assert_allclose(fv.power_l2_normalize(np.array([4.0, -9.0, 0.0])),
                               np.array([2.0, -3.0, 0.0]) / np.sqrt(13.0))
    np.testing.assert_array_equal(fv.power_l2_normalize(np.zeros(4)), np.zeros(4))


# --------------------------------------------------------------------------- the graph

VOCAB_TEXTS = ["a red circle above a blue square", "the blue square is below a red circle",
               "a green star next to the small circle", "three small green stars"]


@pytest.fixture
def layer_parts():
    rng = np.random.default_rng(3)
    vocab = text_towers.word_vocabulary(VOCAB_TEXTS)
    tokenizer = text_towers.build_preprocessor("word_lstm", 6, vocab)
    vectors = np.zeros((len(vocab) + 2, 4), np.float32)
    vectors[2:] = rng.normal(0, 1, (len(vocab), 4))
    vectors[vocab.index("three") + 2] = 0.0  # a vocabulary word without a vector: dropped
    gmm = _random_gmm(rng, 3, 4)
    return tokenizer, vectors, gmm


def _words(tokenizer, vectors, text):
    ids = tokenizer(tf.constant([text])).numpy()[0]
    ids = ids[ids >= 2]
    return vectors[ids[np.any(vectors[ids] != 0, axis=1)]]


SENTENCES = ["a red circle", "The BLUE square, is below a red circle!",  # punctuation, case
             "zebra giraffe", "",  # unknown words only; empty: the zero FV
             "three green stars", "a a a a a a a a a a",  # a word without a vector; truncated to 6
             "small star above the blue circle"]


def _encode(layer, tokenizer, texts):
    """What the text tower computes: the preprocessor's ids, then the FV layer."""
    return layer(tokenizer(tf.constant(texts))).numpy()


def test_graph_fisher_vectors_match_the_slow_reference(layer_parts):
    tokenizer, vectors, gmm = layer_parts
    layer = fv.FisherVector.fitted(vectors, gmm)
    assert layer.fv_dim == layer.output_dim == 2 * 3 * 4
    got = _encode(layer, tokenizer, SENTENCES)
    assert got.shape == (len(SENTENCES), 2 * 3 * 4) and got.dtype == np.float32
    for row, text in zip(got, SENTENCES):
        want = fv.fisher_vector_reference(_words(tokenizer, vectors, text), gmm)
        np.testing.assert_allclose(row, want, atol=1e-5, err_msg=text)
    norms = np.linalg.norm(got, axis=1)
    empty = [SENTENCES.index(s) for s in ("zebra giraffe", "")]
    np.testing.assert_array_equal(norms[empty], 0.0)
    np.testing.assert_allclose(np.delete(norms, empty), 1.0, atol=1e-5)
    # the missing-vector word is skipped, not counted as a zero vector
    np.testing.assert_allclose(got[4], _encode(layer, tokenizer, ["green stars"])[0], atol=1e-6)


def test_graph_pca_is_the_numpy_projection(layer_parts):
    tokenizer, vectors, gmm = layer_parts
    rng = np.random.default_rng(1)
    fvs = rng.normal(0, 1, (30, 24)) @ rng.normal(0, 1, (24, 24))
    mean, comps = fv.fit_pca(fvs, 5)
    np.testing.assert_allclose(comps.T @ comps, np.eye(5), atol=1e-5)
    layer = fv.FisherVector.fitted(vectors, gmm, pca=(mean, comps))
    assert layer.output_dim == 5
    want = np.stack([fv.fisher_vector_reference(_words(tokenizer, vectors, t), gmm)
                     for t in SENTENCES])
    got = _encode(layer, tokenizer, SENTENCES)
    np.testing.assert_allclose(got, (want - mean) @ comps, atol=1e-5)


def test_pca_keeps_at_most_the_rank_of_the_training_rows():
    rng = np.random.default_rng(2)
    rows = rng.normal(0, 1, (8, 3)) @ rng.normal(0, 1, (3, 20))  # rank 3, centred rank <= 3
    mean, comps = fv.fit_pca(rows, 10)
    assert comps.shape == (20, 3)
    # the kept directions reconstruct every training row
    np.testing.assert_allclose((rows - mean) @ comps @ comps.T, rows - mean, atol=1e-4)
    # more rows than dims (covariance route) and fewer (Gram route): the top-P subspace of an SVD
    for n, f in ((200, 6), (6, 40)):
        rows = rng.normal(0, 1, (n, f)) * np.linspace(3, 0.5, f)
        mean, comps = fv.fit_pca(rows, 3)
        vt = np.linalg.svd(rows - rows.mean(0), full_matrices=False)[2][:3]
        np.testing.assert_allclose(comps @ comps.T, vt.T @ vt, atol=1e-4)
        np.testing.assert_allclose(mean, rows.mean(0), atol=1e-5)
        # the sign of each component is fixed: its largest entry is positive, also for -rows
        big = comps[np.argmax(np.abs(comps), axis=0), np.arange(3)]
        assert np.all(big > 0)
        np.testing.assert_allclose(fv.fit_pca(-rows, 3)[1], comps, atol=1e-4)


def test_graph_and_reference_agree_on_a_fitted_model():
    # End to end from captions: GMM by EM on the training tokens' vectors, PCA on training FVs.
    rng = np.random.default_rng(4)
    train = [" ".join(rng.choice(["red", "blue", "green", "a", "circle", "square", "star",
                                  "above", "below", "big"], size=rng.integers(2, 9)))
             for _ in range(60)]
    vocab = text_towers.word_vocabulary(train)
    tokenizer = text_towers.build_preprocessor("word_lstm", 8, vocab)
    vectors = np.zeros((len(vocab) + 2, 6), np.float32)
    vectors[2:] = rng.normal(0, 1, (len(vocab), 6))
    layer = fv.build_fisher_vector(tokenizer, vectors, train, components=3, pca_dim=None,
                                   log=lambda *_: None)
    ids = tokenizer(tf.constant(train)).numpy()
    counts = np.bincount(ids.ravel(), minlength=len(vectors)).astype(float)
    counts[:2] = 0
    gmm = fv.fit_gmm(vectors, 3, counts=counts, seed=0)
    for text in train[:10] + ["red square", "purple square"]:
        want = fv.fisher_vector_reference(_words(tokenizer, vectors, text), gmm)
        np.testing.assert_allclose(_encode(layer, tokenizer, [text])[0], want, atol=1e-5)
    with_pca = fv.build_fisher_vector(tokenizer, vectors, train, components=3, pca_dim=7,
                                      log=lambda *_: None)
    assert with_pca.output_dim == 7 and with_pca.fv_dim == 2 * 3 * 6


# --------------------------------------------------------------------------- EM

def _three_clusters(rng, n=1500):
    means = np.array([[0.0, 0.0, 0.0], [8.0, 8.0, 0.0], [0.0, 8.0, -8.0]])
    stds = np.array([[1.0, 0.5, 1.5], [0.7, 0.7, 0.7], [1.2, 2.0, 0.4]])
    weights = np.array([0.5, 0.3, 0.2])
    which = rng.choice(3, size=n, p=weights)
    return means[which] + stds[which] * rng.normal(size=(n, 3)), means, stds, weights


def test_em_never_decreases_the_log_likelihood_and_recovers_separated_clusters():
    rng = np.random.default_rng(5)
    x, means, stds, weights = _three_clusters(rng)
    gmm = fv.fit_gmm(x, 3, seed=1, tol=0.0, iterations=40)
    ll = gmm.log_likelihood
    assert len(ll) > 5 and np.all(np.diff(ll) >= -1e-9) and ll[-1] > ll[0] + 0.1
    order = [int(np.argmin(np.sum((gmm.means - m) ** 2, axis=1))) for m in means]
    assert sorted(order) == [0, 1, 2]
    np.testing.assert_allclose(gmm.means[order], means, atol=0.2)
    np.testing.assert_allclose(np.sqrt(gmm.variances[order]), stds, rtol=0.15)
    np.testing.assert_allclose(gmm.weights[order], weights, atol=0.04)
    # the fit beats the true parameters' likelihood at most by sampling noise, and beats K=1
    true = fv.GMM(weights, means, stds ** 2, None)
    assert abs(ll[-1] - fv.gmm_log_likelihood(x, true)) < 0.05
    assert ll[-1] > fv.fit_gmm(x, 1).log_likelihood[-1] + 1.0


def test_counts_weigh_points_like_repeated_tokens():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(40, 2))
    counts = rng.integers(0, 4, size=40)
    gmm = fv.fit_gmm(x, 2, counts=counts, seed=0)
    repeated = np.repeat(x, counts, axis=0)
    assert fv.gmm_log_likelihood(x, gmm, counts) == pytest.approx(
        fv.gmm_log_likelihood(repeated, gmm))
    # points of count 0 (padding, unknown words) do not move the fit
    far = np.vstack([x, [[1e3, 1e3]]])
    moved = fv.fit_gmm(far, 2, counts=np.append(counts, 0), seed=0)
    np.testing.assert_allclose(np.sort(moved.means, axis=0), np.sort(gmm.means, axis=0))


def test_too_many_components_is_a_config_error():
    with pytest.raises(ConfigError, match="fv_components"):
        fv.fit_gmm(np.eye(3), 4)


# --------------------------------------------------------------------------- config, text side

def test_fisher_vector_is_a_declared_choice():
    check_choices({"text": {"features": "fisher_vector"}})
    with pytest.raises(ConfigError, match="fisher_vector"):
        check_choices({"text": {"features": "fisher"}})


def test_two_branch_side_gives_fixed_features_and_needs_word_vectors():
    from tfembed.towers.text_towers import build_text_tower, fit_text_side

    cfg = {"features": "fisher_vector", "max_words": 8, "vocab_size": 100, "min_count": 1,
           "word_dim": 5, "word_vectors": "train", "fv_components": 2, "fv_pca_dim": None,
           "train_word_vectors": False,
           "branch": {"hidden": 8, "output": 4, "batch_norm": False, "dropout": 0.0}}
    side = fit_text_side("two_branch", cfg, VOCAB_TEXTS * 3, seed=0)
    ids = side.tokenize(VOCAB_TEXTS + ["an unseen caption"])  # the preprocessor's op
    assert ids.shape == (5, 8) and ids.dtype == np.int64
    tower = build_text_tower("two_branch", side, cfg, 4, texts=VOCAB_TEXTS * 3, seed=0)
    layer = tower.get_layer("fisher_vector")
    assert layer.output_dim == 2 * 2 * 5
    assert tower.input_shape == (None, 8) and tower(ids).shape == (5, 4)
    # the tower's FV layer sees exactly the preprocessor's ids
    feats = layer(side.preprocessor(tf.constant(VOCAB_TEXTS))).numpy()
    assert feats.shape == (4, 20) and np.all(np.isfinite(feats))
    with pytest.raises(ConfigError, match="word_vectors"):
        fit_text_side("two_branch", {**cfg, "word_vectors": None}, VOCAB_TEXTS, seed=0)


def test_fisher_vector_layer_round_trips_through_keras_saving(layer_parts, tmp_path):
    # the config holds only sizes; the GMM, vectors and PCA travel as weights
    tokenizer, vectors, gmm = layer_parts
    rng = np.random.default_rng(7)
    mean, comps = fv.fit_pca(rng.normal(size=(30, 24)), 5)
    ids = keras.Input((6,), dtype="int64")
    model = keras.Model(ids, fv.FisherVector.fitted(vectors, gmm, pca=(mean, comps))(ids))
    model.save(tmp_path / "fv.keras")
    loaded = keras.saving.load_model(tmp_path / "fv.keras")
    x = tokenizer(tf.constant(SENTENCES))
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), atol=1e-6)
    assert np.abs(model(x).numpy()).max() > 0


# --------------------------------------------------------------------------- export

PY_OPS = {"PyFunc", "PyFuncStateless", "EagerPyFunc"}


def _graph_ops(saved_model_dir):
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    with open(f"{saved_model_dir}/saved_model.pb", "rb") as f:
        proto.ParseFromString(f.read())
    ops, jit = set(), False
    for graph in proto.meta_graphs:
        ops |= {n.op for n in graph.graph_def.node}
        for fn in graph.graph_def.library.function:
            ops |= {n.op for n in fn.node_def}
            jit |= "_XlaMustCompile" in fn.attr or any(
                "_XlaMustCompile" in n.attr and n.attr["_XlaMustCompile"].b for n in fn.node_def)
    return ops, jit


def test_saved_model_takes_raw_strings_with_core_ops(layer_parts, tmp_path):
    tokenizer, vectors, gmm = layer_parts
    layer = fv.FisherVector.fitted(vectors, gmm)
    archive = keras.export.ExportArchive()
    archive.track(layer)
    archive.track(tokenizer)
    archive.add_endpoint("embed_text", lambda s: layer(tokenizer(s)),
                         input_signature=[tf.TensorSpec([None], tf.string)])
    archive.write_out(str(tmp_path / "sm"), verbose=False)
    loaded = tf.saved_model.load(str(tmp_path / "sm"))
    got = loaded.embed_text(tf.constant(SENTENCES)).numpy()
    np.testing.assert_allclose(got, _encode(layer, tokenizer, SENTENCES), atol=1e-6)
    ops, jit = _graph_ops(tmp_path / "sm")
    assert not ops & PY_OPS and not jit
    assert {"UnsortedSegmentSum", "Softmax"} <= ops  # the FV runs in the graph


# --------------------------------------------------------------------------- the recipe

def _run(tmp_path, *args):
    code = run_recipe("wang2016", ["--smoke", "--workdir", str(tmp_path), "--set",
                                   "text.features=fisher_vector", *args])
    assert code == 0
    return json.loads((tmp_path / "results.json").read_text())


def test_recipe_smoke_runs_and_exports_raw_string_embed_text(tmp_path):
    res = _run(tmp_path, "--export")
    assert res["config"]["text.features"] == "fisher_vector"
    assert set(res["chance"]) <= set(res["metrics"]) and "rsum" in res["chance"]
    export = tmp_path / "export" / "1"
    ops, jit = _graph_ops(export)
    assert not ops & PY_OPS and not jit
    loaded = tf.saved_model.load(str(export))
    out = loaded.signatures["embed_text"](text=tf.constant(["a red circle above a blue star",
                                                            "zzz"]))["embedding"].numpy()
    assert out.shape == (2, res["config"]["model.embed_dim"]) and np.all(np.isfinite(out))
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


def test_recipe_default_is_stated_and_paper_sizes_are_configured():
    from tfembed.recipe import load_recipe

    recipe = load_recipe("wang2016")
    cfg = recipe.get_config(data="flickr8k")
    assert cfg["text"]["features"] == "fisher_vector"  # chosen on Flickr8k val, see docstring
    assert (cfg["text"]["fv_components"], cfg["text"]["fv_pca_dim"]) == (30, 6000)
    assert cfg["text"]["word_vectors"] == "glove6b50d"  # pretrained, as the paper's word2vec
    assert "`fisher_vector` -- default on real data" in recipe.__doc__
    synthetic = recipe.get_config()["text"]
    assert (synthetic["features"], synthetic["word_vectors"]) == ("tfidf", "train")
    assert synthetic["word_dim"] == 300  # text.features=fisher_vector: 2*30*300 = 18,000 dims


def test_short_training_beats_chance_on_synthetic_scenes(tmp_path):
    # 300 steps from pixels on 400 synthetic scenes, 100 test images (measured: rsum 76.4
    # against chance 31.6; t2i R@10 33.4 against 10).
    res = _run(tmp_path, "--set", "data.num_train=400", "--set", "data.num_test=100",
               "--set", "train.steps=300", "--set", "train.batch_size=32",
               "--set", "image.options.width=32", "--set", "train.learning_rate=0.003",
               "--set", "train.eval_every=0", "--set", "train.checkpoint_every=1000")
    m, c = res["metrics"], res["chance"]
    assert m["rsum"] > c["rsum"] + 20
    assert m["t2i_r@10"] > 2 * c["t2i_r@10"]
