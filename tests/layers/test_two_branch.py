"""Wang, Li, Lazebnik 2016 (Sec. 3.1) embedding branch: two fully connected layers with a ReLU
between them, then L2 normalisation (batch norm after the ReLU and dropout are the recipe's
options); its output checked against a NumPy forward pass with the layer's own weights."""

import keras
import numpy as np
import pytest

from tfembed.layers.two_branch import embedding_branch


def _x(n=4, d=12, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def _numpy_forward(branch, x, bn=None):
    w1, b1 = branch.get_layer("b_fc1").get_weights()
    w2, b2 = branch.get_layer("b_fc2").get_weights()
    h = np.maximum(x.astype(np.float64) @ w1 + b1, 0.0)  # FC, ReLU
    if bn is not None:  # inference-mode batch norm with the layer's moving statistics
        gamma, beta, mean, var = bn.get_weights()
        h = gamma * (h - mean) / np.sqrt(var + bn.epsilon) + beta
    y = h @ w2 + b2  # FC, no non-linearity
    return y / np.linalg.norm(y, axis=1, keepdims=True)  # L2 normalisation


def test_layer_structure_is_fc_relu_fc_l2():
    branch = embedding_branch(12, hidden=16, output=8, batch_norm=False, name="b")
    kinds = [type(layer).__name__ for layer in branch.layers]
    assert kinds == ["InputLayer", "Dense", "ReLU", "Dense", "UnitNormalization"]
    fc1, fc2 = branch.get_layer("b_fc1"), branch.get_layer("b_fc2")
    assert fc1.kernel.shape == (12, 16) and fc2.kernel.shape == (16, 8)
    # The non-linearity is the ReLU layer between the FCs; the FCs themselves are linear.
    assert fc1.activation is keras.activations.linear and fc2.activation is keras.activations.linear
    assert branch.output.shape[-1] == 8


def test_batch_norm_and_dropout_sit_between_the_two_fc_layers():
    branch = embedding_branch(12, hidden=16, output=8, batch_norm=True, dropout=0.5, name="b")
    kinds = [type(layer).__name__ for layer in branch.layers]
    assert kinds == ["InputLayer", "Dense", "ReLU", "BatchNormalization", "Dropout", "Dense",
                     "UnitNormalization"]


def test_output_equals_numpy_forward_and_is_unit_norm():
    keras.utils.set_random_seed(1)
    branch = embedding_branch(12, hidden=16, output=8, batch_norm=False, name="b")
    # non-zero biases, so a forward pass that dropped them would differ
    for name in ("b_fc1", "b_fc2"):
        w, b = branch.get_layer(name).get_weights()
        branch.get_layer(name).set_weights([w, np.linspace(-0.5, 0.5, len(b)).astype(np.float32)])
    x = _x() * np.array([[0.01], [1.0], [5.0], [100.0]], np.float32)  # any input scale
    got = np.asarray(branch(x))
    np.testing.assert_allclose(got, _numpy_forward(branch, x), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, rtol=1e-5)
    # the ReLU matters: without it the output would differ
    w1, b1 = branch.get_layer("b_fc1").get_weights()
    w2, b2 = branch.get_layer("b_fc2").get_weights()
    linear = (x @ w1 + b1) @ w2 + b2
    assert not np.allclose(got, linear / np.linalg.norm(linear, axis=1, keepdims=True), atol=1e-3)


def test_batch_norm_inference_forward_with_moving_statistics():
    keras.utils.set_random_seed(2)
    branch = embedding_branch(12, hidden=16, output=8, batch_norm=True, dropout=0.3, name="b")
    bn = branch.get_layer("b_bn")
    rng = np.random.default_rng(3)
    bn.set_weights([rng.uniform(0.5, 2.0, 16), rng.normal(size=16), rng.uniform(0, 1, 16),
                    rng.uniform(0.5, 3.0, 16)])
    x = _x(seed=4)
    got = np.asarray(branch(x, training=False))  # dropout off, moving statistics
    np.testing.assert_allclose(got, _numpy_forward(branch, x, bn), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("training", [False, True])
def test_unit_norm_in_training_mode_too(training):
    branch = embedding_branch(12, hidden=16, output=8, batch_norm=True, dropout=0.5, name="b")
    out = np.asarray(branch(_x(seed=5), training=training))
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)


def test_wang_recipe_uses_the_branch_with_the_paper_sizes():
    from tfembed.recipe import load_recipe

    cfg = load_recipe("wang2016").get_config()
    branch = cfg["text"]["branch"]
    # Sec. 4: 2048-d hidden layer, 512-d embedding
    assert branch["hidden"] == 2048 and branch["output"] == 512
    model = embedding_branch(6, **branch, name="b")
    assert model.get_layer("b_fc1").kernel.shape == (6, 2048)
    assert model.get_layer("b_fc2").kernel.shape == (2048, 512)
