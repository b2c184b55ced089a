"""build_image_tower contract, over every kind at tiny sizes (no downloads)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfembed.errors import ConfigError
from tfembed.towers.image import IMAGE_TOWERS, build_image_tower, default_image_size

# kind -> (input_shape, options, output width). Trainable variants so gradients can be checked.
CASES = {
    "features": ((16,), {"dropout": 0.1}, 16),
    "conv_small": ((32, 32, 3), {"width": 8, "dropout": 0.1}, 8),
    "googlenet": ((75, 75, 3), {"batch_norm": True}, 1024),
    "keras_app": ((96, 96, 3), {"name": "MobileNetV2", "trainable": True}, 1280),
    "efficientnet_lite0": ((64, 64, 3), {"trainable": True}, 1280),
}


def _inputs(shape, n=2, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, *shape)).astype(np.float32)


def test_cases_cover_every_kind():
    assert set(CASES) == set(IMAGE_TOWERS)


@pytest.mark.parametrize("kind", IMAGE_TOWERS)
def test_output_shape_finite_gradients_and_config(kind):
    shape, options, width = CASES[kind]
    model = build_image_tower(kind, shape, **options)
    x = _inputs(shape)
    y = model.predict_on_batch(x)
    assert y.shape == (2, width) and np.isfinite(y).all()

    # Every trainable weight gets a nonzero gradient (training mode: dropout and batch BN).
    with tf.GradientTape() as tape:
        out = model(x, training=True)
        loss = tf.reduce_sum(out * tf.random.normal(out.shape, seed=1))
    grads = tape.gradient(loss, model.trainable_weights)
    for w, g in zip(model.trainable_weights, grads):
        assert g is not None and np.abs(g.numpy()).max() > 0, w.path
    if kind == "features":
        assert model.trainable_weights == []
        np.testing.assert_array_equal(y, x)  # identity at inference

    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())  # BN statistics moved in the training step above
    np.testing.assert_allclose(clone.predict_on_batch(x), model.predict_on_batch(x), atol=1e-5)


def test_conv_small_defaults():
    model = build_image_tower("conv_small")
    assert model.input.shape == (None, 64, 64, 3) and model.output.shape == (None, 128)


def test_frozen_by_default():
    assert build_image_tower("efficientnet_lite0", (64, 64, 3)).trainable_weights == []
    assert build_image_tower("keras_app", (96, 96, 3), name="MobileNetV2").trainable_weights == []


def test_keras_app_default_inception_v3():
    model = build_image_tower("keras_app", (75, 75, 3), weights=None)
    assert model.output.shape == (None, 2048)
    assert default_image_size("keras_app") == (299, 299)


def test_keras_app_preprocess_inside_and_local_weights(tmp_path):
    a = build_image_tower("keras_app", (96, 96, 3), name="MobileNetV2")
    base = a.layers[-1]
    x = _inputs((96, 96, 3))
    manual = base.predict_on_batch(keras.applications.mobilenet_v2.preprocess_input(x.copy()))
    np.testing.assert_allclose(a.predict_on_batch(x), manual, atol=1e-5)

    path = tmp_path / "mobilenet_v2.weights.h5"
    base.save_weights(path)
    b = build_image_tower("keras_app", (96, 96, 3), name="MobileNetV2", weights=str(path))
    np.testing.assert_allclose(b.predict_on_batch(x), manual, atol=1e-5)


def test_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="NoSuchNet.*InceptionV3"):
        build_image_tower("keras_app", (96, 96, 3), name="NoSuchNet")
    with pytest.raises(ConfigError, match="no such file"):
        build_image_tower("keras_app", (96, 96, 3), name="MobileNetV2", weights=str(tmp_path / "x.h5"))
    with pytest.raises(ConfigError, match="conv_small"):
        build_image_tower("resnet9000", (64, 64, 3))
    with pytest.raises(ConfigError, match="widht.*width"):
        build_image_tower("conv_small", (64, 64, 3), widht=3)
    with pytest.raises(ConfigError, match="input_shape"):
        build_image_tower("features")


def test_default_image_sizes():
    assert default_image_size("efficientnet_lite0") == (224, 224)
    assert default_image_size("googlenet") == (224, 224)
    assert default_image_size("conv_small") == (64, 64)
    assert default_image_size("keras_app", name="MobileNetV2") == (224, 224)
    assert default_image_size("features") is None
