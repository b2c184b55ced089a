"""keras.applications backbones as image towers, with their own preprocessing inside the model."""

import importlib
import os

import keras

from tfembed.errors import ConfigError

# Native input sizes of applications that are not 224 x 224.
_IMAGE_SIZES = {
    "InceptionV3": 299, "Xception": 299, "InceptionResNetV2": 299, "NASNetLarge": 331,
    "EfficientNetB1": 240, "EfficientNetB2": 260, "EfficientNetB3": 300, "EfficientNetB4": 380,
    "EfficientNetB5": 456, "EfficientNetB6": 528, "EfficientNetB7": 600,
    "EfficientNetV2B1": 240, "EfficientNetV2B2": 260, "EfficientNetV2B3": 300,
    "EfficientNetV2S": 384, "EfficientNetV2M": 480, "EfficientNetV2L": 480,
}


def app_names():
    """Sorted names of the keras.applications constructors available here."""
    return sorted(n for n in dir(keras.applications)
                  if n[:1].isupper() and callable(getattr(keras.applications, n)))


def _constructor(name):
    if name not in app_names():
        raise ConfigError(f"unknown keras.applications backbone {name!r}; valid names include "
                          + ", ".join(app_names()))
    return getattr(keras.applications, name)


def app_image_size(name):
    """Native (H, W) of application `name`."""
    _constructor(name)
    size = _IMAGE_SIZES.get(name, 224)
    return (size, size)


@keras.saving.register_keras_serializable(package="tfembed")
class AppPreprocess(keras.layers.Layer):
    """Applies keras.applications' `preprocess_input` of backbone `app` to [0, 255] RGB.

    A named layer (not a Lambda) so that the tower serialises and an exporter only needs to
    decode and resize.
    """

    def __init__(self, app, **kwargs):
        super().__init__(**kwargs)
        self.app = app
        # Every application module exposes `preprocess_input`; some (MobileNetV3) only in the
        # module that defines the constructor.
        module = importlib.import_module(_constructor(app).__module__)
        self._fn = module.preprocess_input

    def call(self, x):
        return self._fn(x)

    def get_config(self):
        return {**super().get_config(), "app": self.app}


def keras_app_tower(input_shape=None, name="InceptionV3", weights=None, pooling="avg", trainable=False):
    """Tower from a keras.applications backbone (no top) applied to preprocessed [0, 255] RGB.

    `weights`: "imagenet" (downloads; needs network access), None (random init) or the path of a
    weights file of the headless application (e.g. saved with `save_weights`).
    `pooling`: "avg" or "max" give a vector per image. `trainable=False` freezes the backbone
    (its BatchNorm layers then also run in inference mode).
    """
    ctor = _constructor(name)
    if input_shape is None:
        input_shape = (*app_image_size(name), 3)
    if weights not in (None, "imagenet") and not os.path.exists(str(weights)):
        raise ConfigError(f"keras_app weights: no such file {weights!r} "
                          "(use 'imagenet', None or a local weights file)")
    if pooling not in ("avg", "max"):
        raise ConfigError(f"keras_app pooling must be 'avg' or 'max', got {pooling!r}")
    inputs = keras.Input(tuple(input_shape), name="image")
    x = AppPreprocess(name, name="preprocess")(inputs)
    # The application's own Input is the pixels after preprocessing; keras.applications loads
    # `weights` itself (download for "imagenet", `load_weights` for a path).
    base = ctor(include_top=False, weights=weights, input_shape=tuple(input_shape), pooling=pooling)
    base.trainable = bool(trainable)
    return keras.Model(inputs, base(x), name=f"keras_app_{name.lower()}")
