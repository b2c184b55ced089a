"""Semantic -> visual towers: shapes, non-negative outputs, fusion and Bi-LSTM behaviour."""

import numpy as np

from tfembed.towers import semantic


def test_mlp_maps_attributes_to_nonnegative_visual_vectors():
    model = semantic.semantic_mlp(12, 20, hidden_dim=8)
    out = model({"attributes": np.random.default_rng(0).normal(size=(5, 12)).astype(np.float32)})
    assert out.shape == (5, 20) and float(np.min(out)) >= 0.0
    assert [tuple(k.shape) for k in semantic.regularised_kernels(model)] == [(12, 8), (8, 20)]


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


def test_description_encoder_ignores_padding_and_uses_word_vectors():
    vectors = np.random.default_rng(2).normal(size=(7, 3)).astype(np.float32)
    model = semantic.description_encoder(7, 5, 4, units=6, word_vectors=vectors)
    np.testing.assert_allclose(model.get_layer("word_embedding").get_weights()[0], vectors)
    ids = np.array([[2, 3, 0, 0, 0], [2, 3, 4, 0, 0]], np.int64)
    out = np.asarray(model({"ids": ids}))
    assert out.shape == (2, 4) and out.min() >= 0.0
    longer = np.array([[2, 3, 0, 0, 0, ]], np.int64)
    np.testing.assert_allclose(model({"ids": longer}), out[:1], rtol=1e-5, atol=1e-6)
