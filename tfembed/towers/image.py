"""Image towers: Keras functional models mapping a batch of images to one vector per image.

Pixel towers take float32 RGB in [0, 255] of shape (H, W, 3) and normalise inside the model,
so an exporter only decodes and resizes. No tower normalises its output: the joint model does.
"""

import inspect

import keras

from tfembed.errors import ConfigError
from tfembed.towers.backbones import app_image_size, keras_app_tower
from tfembed.towers.efficientnet_lite import efficientnet_lite0
from tfembed.towers.googlenet import googlenet

IMAGE_TOWERS = ("features", "conv_small", "googlenet", "keras_app", "efficientnet_lite0")


def features_tower(input_shape, dropout=0.0):
    """Fixed precomputed features (the paper's fixed-GoogLeNet path): identity, optional dropout."""
    if input_shape is None:
        raise ConfigError("the 'features' tower needs input_shape=(D,), the feature dimension")
    shape = (int(input_shape),) if isinstance(input_shape, int) else tuple(input_shape)
    inputs = keras.Input(shape, name="features")
    x = keras.layers.Dropout(dropout, name="dropout")(inputs) if dropout else \
        keras.layers.Identity(name="identity")(inputs)
    return keras.Model(inputs, x, name="features_tower")


def conv_small_tower(input_shape=(64, 64, 3), width=128, dropout=0.0):
    """Small CNN trained from scratch for the synthetic 64x64 images.

    Four blocks (conv3x3 32-64-128-128, BN, ReLU, max-pool 2), global average pooling, optional
    dropout, then a linear Dense to `width`.
    """
    inputs = keras.Input(tuple(input_shape), name="image")
    x = keras.layers.Rescaling(1.0 / 255.0, name="preprocess")(inputs)
    for i, filters in enumerate((32, 64, 128, 128)):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{i}")(x)
        x = keras.layers.BatchNormalization(name=f"conv{i}_bn")(x)
        x = keras.layers.ReLU(name=f"conv{i}_relu")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    x = keras.layers.Dense(int(width), name="embedding")(x)
    return keras.Model(inputs, x, name="conv_small")


def googlenet_tower(input_shape=(224, 224, 3), batch_norm=False, dropout=0.0, weights=None):
    """GoogLeNet trunk (1024-d); see `tfembed.towers.googlenet.googlenet`."""
    return googlenet(tuple(input_shape), batch_norm=batch_norm, dropout=dropout, weights=weights)


def efficientnet_lite0_tower(input_shape=(224, 224, 3), weights=None, trainable=False):
    """EfficientNet-Lite0 features (1280-d) with `(x - 127) / 128` inside the model.

    `weights`: path of `efficientnet_lite0_torch.npz` (None = random init).
    """
    model = efficientnet_lite0(weights=weights, include_top=False, pooling="avg",
                               input_shape=tuple(input_shape), preprocess=True)
    model.trainable = bool(trainable)
    return model


_BUILDERS = {"features": features_tower, "conv_small": conv_small_tower,
             "googlenet": googlenet_tower, "keras_app": keras_app_tower,
             "efficientnet_lite0": efficientnet_lite0_tower}


def build_image_tower(kind, input_shape=None, **options):
    """Build the image tower `kind` (one of IMAGE_TOWERS) for inputs of `input_shape`.

    `input_shape` is (D,) for "features" and (H, W, 3) otherwise (None = the kind's default
    size). Unknown kinds or options raise ConfigError naming the valid ones.
    """
    if kind not in _BUILDERS:
        raise ConfigError(f"unknown image tower {kind!r}; valid: {', '.join(IMAGE_TOWERS)}")
    builder = _BUILDERS[kind]
    valid = [p for p in inspect.signature(builder).parameters if p != "input_shape"]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ConfigError(f"unknown option(s) {unknown} for image tower {kind!r}; valid: {valid}")
    if input_shape is None and kind not in ("features", "keras_app"):
        input_shape = (*default_image_size(kind), 3)
    return builder(input_shape, **options)


def default_image_size(kind, name="InceptionV3"):
    """Native (H, W) of tower `kind` (`name` is the keras_app backbone); None for "features"."""
    sizes = {"conv_small": (64, 64), "googlenet": (224, 224), "efficientnet_lite0": (224, 224)}
    if kind == "features":
        return None
    if kind == "keras_app":
        return app_image_size(name)
    if kind not in sizes:
        raise ConfigError(f"unknown image tower {kind!r}; valid: {', '.join(IMAGE_TOWERS)}")
    return sizes[kind]
