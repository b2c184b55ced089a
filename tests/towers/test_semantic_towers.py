"""Semantic -> visual towers: shapes, non-negative outputs, fusion and Bi-LSTM behaviour,
DEM's weight decay as kernel regularisers, and a saved tower that loads without Lambda layers."""

import keras
import pytest
import numpy as np

from tfembed.errors import ConfigError
from tfembed.towers import semantic


def test_mlp_maps_attributes_to_nonnegative_visual_vectors():
    model = semantic.semantic_mlp(12, 20, hidden_dim=8)
    out = model({"attributes": np.random.default_rng(0).normal(size=(5, 12)).astype(np.float32)})
    assert out.shape == (5, 20) and float(np.min(out)) >= 0.0
    assert [tuple(k.shape) for k in semantic.regularised_kernels(model)] == [(12, 8), (8, 20)]


def test_weight_decay_is_lambda_times_squared_kernels_and_only_kernels():
    model = semantic.fusion_mlp({"attributes": 6, "words": 4}, 10, hidden_dim=5, weight_decay=0.25)
    kernels = [k.numpy() for k in semantic.regularised_kernels(model)]
    assert len(kernels) == 3  # fc_attributes, fc_words, fc_out; no biases
    np.testing.assert_allclose(float(sum(model.losses)),
                               0.25 * sum(np.sum(k ** 2) for k in kernels), rtol=1e-6)
    assert not semantic.semantic_mlp(3, 4, 5).losses  # no weight decay: no penalty


def test_saved_towers_load_in_safe_mode(tmp_path):
    rng = np.random.default_rng(3)
    for name, model, x in (
            ("fusion", semantic.fusion_mlp({"attributes": 6, "words": 4}, 10, 5, 0.1),
             {"attributes": rng.normal(size=(2, 6)).astype(np.float32),
              "words": rng.normal(size=(2, 4)).astype(np.float32)}),
            ("bilstm", semantic.description_encoder(9, 5, 4, units=3, weight_decay=0.1),
             np.array([[2, 3, 4, 0, 0], [5, 0, 0, 0, 0]], np.int64))):
        path = str(tmp_path / f"{name}.keras")
        model.save(path)
        loaded = keras.saving.load_model(path)  # safe_mode: no Lambda layer to refuse
        np.testing.assert_allclose(loaded(x), model(x), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(float(sum(loaded.losses)), float(sum(model.losses)), rtol=1e-6)


def test_fusion_sums_modalities_before_the_scaled_tanh():
    model = semantic.fusion_mlp({"attributes": 6, "words": 4}, 10, hidden_dim=5)
    rng = np.random.default_rng(1)
    a, w = rng.normal(size=(3, 6)).astype(np.float32), rng.normal(size=(3, 4)).astype(np.float32)
    out = np.asarray(model({"attributes": a, "words": w}))
    assert out.shape == (3, 10) and out.min() >= 0.0
    # Changing one modality changes the output: both enter the sum.
    assert not np.allclose(out, model({"attributes": a, "words": w + 1.0}))
    hidden = model.get_layer("scaled_tanh").output
    assert hidden.shape[-1] == 5
    a_, b_ = semantic.SCALED_TANH
    assert np.isclose(a_ * np.tanh(b_ * 100.0), 1.7159)  # saturates at LeCun's bound


def test_description_encoder_uses_word_vectors():
    vectors = np.random.default_rng(2).normal(size=(7, 3)).astype(np.float32)
    model = semantic.description_encoder(7, 5, 4, units=6, word_vectors=vectors)
    np.testing.assert_allclose(model.get_layer("word_embedding").get_weights()[0], vectors)
    out = np.asarray(model({"ids": np.array([[2, 3, 0, 0, 0], [2, 3, 4, 0, 0]], np.int64)}))
    assert out.shape == (2, 4) and out.min() >= 0.0


def _with_weights(model, seed):
    """Random weights with positive biases, so the final ReLU leaves the outputs non-zero."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(scale=0.5, size=w.shape).astype(np.float32)
                       + (0.3 if w.ndim == 1 else 0.0) for w in model.get_weights()])
    return model


def test_description_encoder_ignores_padding():
    # Padding (id 0) after a description changes neither direction of the Bi-LSTM (the
    # forward one stops, the backward one starts, at the last real word): the
    # same description without padding -- a model of max_length 3, same weights -- and with 2
    # or 9 padding positions gives the same output.
    ids = [2, 5, 3]
    short = _with_weights(semantic.description_encoder(7, 3, 4, embed_dim=5, units=6), 0)
    want = np.asarray(short({"ids": np.array([ids], np.int64)}))[0]
    assert np.abs(want).max() > 0.1
    for length in (5, 12):
        padded = semantic.description_encoder(7, length, 4, embed_dim=5, units=6)
        padded.set_weights(short.get_weights())
        row = np.zeros((1, length), np.int64)
        row[0, :3] = ids
        np.testing.assert_allclose(np.asarray(padded({"ids": row}))[0], want, rtol=1e-5,
                                   atol=1e-6)
        # the padding id is a real row of the embedding: had it been read, the output would
        # move, as it does when a real word takes a padding position
        row[0, 3] = 4
        assert not np.allclose(np.asarray(padded({"ids": row}))[0], want, atol=1e-4)


def _lstm_final_state(x, kernel, recurrent, bias):
    """Keras LSTM (gates i, f, c, o; sigmoid / tanh) over the rows of x: the last h."""
    units = recurrent.shape[0]
    h, c = np.zeros(units), np.zeros(units)
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    for t in range(len(x)):
        z = x[t] @ kernel + h @ recurrent + bias
        i, f, g, o = (z[k * units:(k + 1) * units] for k in range(4))
        c = sig(f) * c + sig(i) * np.tanh(g)
        h = sig(o) * np.tanh(c)
    return h


def test_description_encoder_uses_the_final_states_of_both_directions():
    # Zhang et al. 2017 Sec. 3.2 (c): f(W_fwd h_fwd + W_bwd h_bwd), h_fwd the forward state
    # after the last real word, h_bwd the backward state after reading back to the first;
    # padding is not read. A NumPy LSTM over the real words with the model's weights.
    ids = [2, 5, 3, 6]
    model = _with_weights(semantic.description_encoder(7, 9, 4, embed_dim=5, units=6), 1)
    row = np.zeros((1, 9), np.int64)
    row[0, :4] = ids
    got = np.asarray(model({"ids": row}))[0]
    emb = model.get_layer("word_embedding").get_weights()[0][ids]
    fk, fr, fb, bk, br, bb = model.get_layer("bilstm").get_weights()
    h = np.concatenate([_lstm_final_state(emb, fk, fr, fb),
                        _lstm_final_state(emb[::-1], bk, br, bb)])
    w, b = model.get_layer("fc_out").get_weights()
    want = np.maximum(h @ w + b, 0.0)
    assert np.abs(want).max() > 0.1
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    # The mean over words (the earlier encoder) is a different function of the same weights.
    mean = semantic.description_encoder(7, 9, 4, embed_dim=5, units=6, pooling="mean")
    mean.set_weights(model.get_weights())
    assert not np.allclose(np.asarray(mean({"ids": row}))[0], got, atol=1e-3)


def test_attributes_descriptions_fusion_is_the_papers_sum_then_scaled_tanh():
    # Zhang et al. 2017 Sec. 3.2 / Fig. 1 (b)+(c): f1(W2 f2(W_a a + W_fwd h_fwd + W_bwd h_bwd)),
    # f2 the scaled tanh, f1 ReLU; h the Bi-LSTM's final states over the real words.
    model = _with_weights(semantic.attributes_descriptions_encoder(
        6, 7, 9, 4, hidden_dim=5, embed_dim=3, units=2, weight_decay=0.5), 4)
    ids, attributes = [2, 5, 3], np.random.default_rng(5).normal(size=6).astype(np.float32)
    row = np.zeros((1, 9), np.int64)
    row[0, :3] = ids
    got = np.asarray(model({"attributes": attributes[None], "ids": row}))[0]
    emb = model.get_layer("word_embedding").get_weights()[0][ids]
    fk, fr, fb, bk, br, bb = model.get_layer("bilstm").get_weights()
    h = np.concatenate([_lstm_final_state(emb, fk, fr, fb),
                        _lstm_final_state(emb[::-1], bk, br, bb)])
    (wa, ba), (wd, bd), (wo, bo) = (model.get_layer(n).get_weights()
                                    for n in ("fc_attributes", "fc_descriptions", "fc_out"))
    a_, b_ = semantic.SCALED_TANH
    want = np.maximum(a_ * np.tanh(b_ * (attributes @ wa + ba + h @ wd + bd)) @ wo + bo, 0.0)
    assert np.abs(want).max() > 0.1
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    # Both modalities enter: another class's attributes, or another description, move it.
    assert not np.allclose(model({"attributes": attributes[None] + 1.0, "ids": row})[0], got)
    row[0, 1] = 6
    assert not np.allclose(model({"attributes": attributes[None], "ids": row})[0], got)
    # Eq. 1's weight decay on the three FC kernels (the LSTM's are not FC layers).
    kernels = [k.numpy() for k in semantic.regularised_kernels(model)]
    assert [k.shape for k in kernels] == [(6, 5), (4, 5), (5, 4)]
    np.testing.assert_allclose(float(sum(model.losses)),
                               0.5 * sum(np.sum(k ** 2) for k in kernels), rtol=1e-5)


def test_attributes_descriptions_tower_saves_and_loads_in_safe_mode(tmp_path):
    model = _with_weights(semantic.attributes_descriptions_encoder(3, 6, 4, 5, 4, 3, 2), 6)
    x = {"attributes": np.eye(3, dtype=np.float32)[:2],
         "ids": np.array([[2, 3, 0, 0], [4, 5, 1, 0]], np.int64)}
    path = str(tmp_path / "fused.keras")
    model.save(path)
    np.testing.assert_allclose(keras.saving.load_model(path)(x), model(x), rtol=1e-5, atol=1e-6)
    with pytest.raises(ConfigError, match="bilstm_pooling"):
        semantic.attributes_descriptions_encoder(3, 6, 4, 5, pooling="max")
