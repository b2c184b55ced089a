"""EfficientNet-Lite0 port: architecture, weight mapping and the README validation protocol."""

import numpy as np
import pytest
import keras
import tensorflow as tf

from tfembed.errors import DataError
from tfembed.towers.efficientnet_lite import _torch_prefix, efficientnet_lite0, load_torch_state
from tfembed.towers.image import build_image_tower

WEIGHTS = "weights/efficientnet_lite0/efficientnet_lite0_torch.npz"
REFERENCE = "weights/efficientnet_lite0/reference.npz"
BIRDS = set(range(7, 25)) | set(range(80, 101)) | set(range(127, 147))  # README's bird indices


def torch_state(model):
    """Inverse of the README's weight layout: a fake PyTorch state_dict from a Keras model."""
    state = {}
    for layer in model.layers:
        if not layer.weights:
            continue
        p, w = _torch_prefix(layer.name), [v.numpy() for v in layer.weights]
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            state[p + ".weight"] = w[0].transpose(2, 3, 0, 1)
        elif isinstance(layer, keras.layers.Conv2D):
            state[p + ".weight"] = w[0].transpose(3, 2, 0, 1)
        elif isinstance(layer, keras.layers.BatchNormalization):
            for s, a in zip((".weight", ".bias", ".running_mean", ".running_var"), w):
                state[p + s] = a
            state[p + ".num_batches_tracked"] = np.zeros((), np.float32)
        else:
            state[p + ".weight"], state[p + ".bias"] = w[0].T, w[1]
    return state


def test_parameter_count_matches_readme():
    model = efficientnet_lite0(include_top=True)
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == 4_652_008
    assert model.output.shape == (None, 1000)
    assert efficientnet_lite0(pooling=None).output.shape == (None, 7, 7, 1280)


def test_state_round_trip_and_loud_errors():
    src = efficientnet_lite0(include_top=True, input_shape=(64, 64, 3))
    rng = np.random.default_rng(1)
    for layer in src.layers:  # non-trivial BN statistics, so a mix-up would show
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(np.float32) for w in layer.weights])
    state = torch_state(src)
    assert len(state) == 296  # same number of keys as the real state_dict
    dst = efficientnet_lite0(include_top=True, input_shape=(64, 64, 3))
    load_torch_state(dst, state)
    x = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype(np.float32)
    np.testing.assert_allclose(dst.predict_on_batch(x), src.predict_on_batch(x), atol=1e-5)
    # Without a top, the _fc keys are not "unused".
    load_torch_state(efficientnet_lite0(input_shape=(64, 64, 3)), state)

    missing = {k: v for k, v in state.items() if k != "_blocks.3._bn1.running_var"}
    with pytest.raises(DataError, match=r"_blocks\.3\._bn1\.running_var"):
        load_torch_state(dst, missing)
    bad = dict(state, **{"_blocks.5._expand_conv.weight": np.zeros((240, 40, 3, 3), np.float32)})
    with pytest.raises(DataError, match=r"_blocks\.5\._expand_conv\.weight.*shape"):
        load_torch_state(dst, bad)
    with pytest.raises(DataError, match=r"_blocks\.16\._bn2\.bias"):
        load_torch_state(dst, dict(state, **{"_blocks.16._bn2.bias": np.zeros(3, np.float32)}))


def test_reference_outputs(shared_data):
    """README "Validating a Keras port": features and logits within 1e-3 of the reference."""
    ref = np.load(shared_data / REFERENCE)
    model = efficientnet_lite0(shared_data / WEIGHTS, include_top=True, preprocess=False)
    both = keras.Model(model.input, [model.get_layer("avg_pool").output, model.output])
    features, logits = both.predict_on_batch(ref["images"])
    assert np.abs(features - ref["features"]).max() <= 1e-3
    assert np.abs(logits - ref["logits"]).max() <= 1e-3
    assert logits.argmax(1).tolist() == [146, 98, 135, 10]

    # The tower takes [0, 255] pixels: invert (x - 127) / 128 (exact in float32).
    tower = build_image_tower("efficientnet_lite0", weights=shared_data / WEIGHTS)
    assert tower.trainable_weights == [] and tower.output.shape == (None, 1280)
    pooled = tower.predict_on_batch(ref["images"] * 128.0 + 127.0)
    assert np.abs(pooled - ref["features"]).max() <= 1e-3


def test_jpeg_through_full_tower(shared_data):
    """Decode + antialiased bilinear resize + in-model preprocessing gives the birds' classes.

    tf.image.resize is not bit-identical to PIL's resize (README "Preprocessing"), so only the
    top-1 class and a loose feature similarity are checked.
    """
    ref = np.load(shared_data / REFERENCE)
    images = []
    for name in ref["image_files"]:
        pixels = tf.io.decode_jpeg(tf.io.read_file(str(shared_data / str(name))), channels=3)
        images.append(tf.image.resize(tf.cast(pixels, tf.float32), (224, 224), antialias=True))
    model = efficientnet_lite0(shared_data / WEIGHTS, include_top=True, preprocess=True)
    both = keras.Model(model.input, [model.get_layer("avg_pool").output, model.output])
    features, logits = both.predict_on_batch(np.stack(images))
    top1 = logits.argmax(1).tolist()
    assert set(top1) <= BIRDS
    assert top1 == [146, 98, 135, 10]
    cos = (features * ref["features"]).sum(1) / (
        np.linalg.norm(features, axis=1) * np.linalg.norm(ref["features"], axis=1))
    assert cos.min() > 0.98
