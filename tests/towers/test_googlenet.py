"""GoogLeNet (Szegedy et al. 2015) trunk: Table 1 shapes and parameters, weights round trip."""

import keras
import numpy as np
import pytest

from tfembed.towers.googlenet import INCEPTION, TABLE1_PARAMS_K, googlenet
from tfembed.towers.image import build_image_tower


def _kernels(model, prefix=""):
    return sum(int(np.prod(w.shape)) for w in model.weights
               if w.path.endswith("kernel") and w.path.startswith(prefix))


def test_table1_output_sizes_at_224():
    model = googlenet()
    # Table 1 "output size" column.
    expected = {"pool1": (56, 56, 64), "conv2_3x3_relu": (56, 56, 192), "pool2": (28, 28, 192),
                "inception_3a_output": (28, 28, 256), "inception_3b_output": (28, 28, 480),
                "pool3": (14, 14, 480), "inception_4a_output": (14, 14, 512),
                "inception_4d_output": (14, 14, 528), "inception_4e_output": (14, 14, 832),
                "pool4": (7, 7, 832), "inception_5b_output": (7, 7, 1024)}
    for name, shape in expected.items():
        assert model.get_layer(name).output.shape[1:] == shape, name
    assert model.output.shape == (None, 1024)
    for name, (n1, _, n3, _, n5, pp) in INCEPTION.items():
        assert model.get_layer(f"inception_{name}_output").output.shape[-1] == n1 + n3 + n5 + pp


def test_parameter_count_about_6m():
    model = googlenet()
    # Conv kernels + biases; no classifier. Table 1 sums to 5798K (K = 1024) kernel weights
    # (its conv1 entry and a few inception entries are rounded/inconsistent): within 1 %.
    assert model.count_params() == 5_973_552
    assert _kernels(model) == 5_966_272
    assert abs(_kernels(model) / 1024 - sum(TABLE1_PARAMS_K)) / sum(TABLE1_PARAMS_K) < 0.01
    assert _kernels(model, "conv2") == 112 * 1024  # exact Table 1 entries
    assert round(_kernels(model, "inception_3a") / 1024) in (159, 160)
    bn = googlenet(batch_norm=True)
    assert _kernels(bn) == _kernels(model)
    assert not any(layer.use_bias for layer in bn.layers if isinstance(layer, keras.layers.Conv2D))


@pytest.mark.parametrize("batch_norm", [False, True])
def test_weights_file_round_trip(tmp_path, batch_norm):
    path = tmp_path / "googlenet.weights.h5"
    a = build_image_tower("googlenet", (75, 75, 3), batch_norm=batch_norm)
    a.save_weights(path)
    b = build_image_tower("googlenet", (75, 75, 3), batch_norm=batch_norm, weights=str(path))
    x = np.random.default_rng(0).uniform(0, 255, (2, 75, 75, 3)).astype(np.float32)
    np.testing.assert_allclose(b.predict_on_batch(x), a.predict_on_batch(x), atol=1e-5)
