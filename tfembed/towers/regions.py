"""Image regions for region-word alignment (Karpathy & Fei-Fei 2015, Sec. 3.1.1): the whole
image plus region boxes (the data set's boxes where given, else a fixed grid), each cropped,
passed through a CNN and a learned projection v = W_m CNN(I_b) + b_m.

Training crops each image's own boxes in the input pipeline; a served image arrives without
boxes, so the serving tower cuts the fixed grid in the graph (`GridRegions`, a registered
layer: the serving tower is saved with the run and re-exported from it). Precomputed region
features (tfembed.data.region_features) are served the same way: `region_feature_serving`."""

import os

import keras
import numpy as np
import tensorflow as tf

WHOLE = np.array([0.0, 0.0, 1.0, 1.0], np.float32)


def grid_boxes(n=2):
    """The whole image, then an n x n grid of boxes (y0, x0, y1, x1) in [0, 1]: [1 + n*n, 4]."""
    edges = np.linspace(0, 1, n + 1)
    cells = [[edges[r], edges[c], edges[r + 1], edges[c + 1]] for r in range(n) for c in range(n)]
    return np.concatenate([WHOLE[None], np.asarray(cells, np.float32)])


def region_table(boxes, num_images, max_regions, grid=2):
    """[N, 1 + max_regions, 4]: whole image first, then each image's boxes (or the grid when
    `boxes` is None); missing regions repeat the whole image, which leaves every max unchanged."""
    out = np.tile(WHOLE, (num_images, 1 + max_regions, 1))
    for i in range(num_images):
        own = grid_boxes(grid)[1:] if boxes is None else np.asarray(boxes[i], np.float32)
        own = own[:max_regions]
        out[i, 1:1 + len(own)] = own
    return out


def crop_regions(image, boxes, crop_size):
    """image [H, W, 3], boxes [R, 4] -> crops [R, h, w, 3] (bilinear)."""
    index = tf.zeros([tf.shape(boxes)[0]], tf.int32)
    return tf.image.crop_and_resize(image[None], boxes, index, crop_size)


def crop_batch(images, boxes, crop_size):
    """images [N, H, W, 3], the same boxes [R, 4] for all -> [N, R, h, w, 3]."""
    n, r = tf.shape(images)[0], tf.shape(boxes)[0]
    index = tf.repeat(tf.range(n), r)
    tiled = tf.tile(boxes, [n, 1])
    crops = tf.image.crop_and_resize(images, tiled, index, crop_size)
    return tf.reshape(crops, tf.concat([[n, r], tf.shape(crops)[1:]], 0))


@keras.saving.register_keras_serializable(package="tfembed")
class GridRegions(keras.layers.Layer):
    """pixels [N, H, W, 3] -> crops [N, R, h, w, 3] of fixed boxes [R, 4] (the serving path)."""

    def __init__(self, boxes, crop_size, **kwargs):
        kwargs["trainable"] = False
        super().__init__(**kwargs)
        self.boxes = np.asarray(boxes, np.float32).tolist()
        self.crop_size = [int(s) for s in crop_size]

    def call(self, images):
        return crop_batch(images, tf.constant(self.boxes, tf.float32), self.crop_size)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], len(self.boxes), *self.crop_size, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "boxes": self.boxes, "crop_size": self.crop_size}


def region_encoder(cnn, region_shape, embed_dim, name="region_encoder"):
    """[N, R, *region_shape] (crops or CNN features) -> [N, R, embed_dim]; `cnn` None = the
    input already holds CNN features. A 1-d `region_shape` (F,) is whole-image features [N, F]:
    one region per image, [N, 1, embed_dim]."""
    region_shape = tuple(region_shape)
    inputs = keras.Input(region_shape, name="regions")
    x = keras.layers.Reshape((1, *region_shape), name="one_region")(inputs) \
        if len(region_shape) == 1 else inputs
    x = keras.layers.TimeDistributed(cnn, name="region_cnn")(x) if cnn is not None else x
    x = keras.layers.Dense(embed_dim, name="region_projection")(x)
    return keras.Model(inputs, x, name=name)


def serving_region_tower(region_tower, image_size, boxes, crop_size, frozen_cnn=None):
    """pixels [N, H, W, 3] -> [N, R, D]: the fixed boxes cut in the graph, the frozen CNN (when
    training used its precomputed features) per crop, then the trained `region_tower`."""
    pixels = keras.Input((*image_size, 3), name="pixels")
    x = GridRegions(boxes, crop_size, name="grid_regions")(pixels)
    if frozen_cnn is not None:
        x = keras.layers.TimeDistributed(frozen_cnn, name="frozen_region_cnn")(x)
    return keras.Model(pixels, region_tower(x), name="serving_image_tower")


def region_feature_cnn(regions, weights=None):
    """The frozen CNN a region feature file was extracted with (`regions`: region_features.load),
    for the serving path; `weights` overrides the recorded weights path (same sha256 required).
    None when the file was made with a random-init backbone, which cannot be rebuilt."""
    from tfembed.data.region_features import sha256
    from tfembed.errors import ConfigError
    from tfembed.towers.image import build_image_tower

    if not regions["weights_sha256"]:
        return None
    path = weights if weights and os.path.isfile(weights) else regions["weights"]
    if not os.path.isfile(path):
        raise ConfigError(f"the region features were extracted with {regions['backbone']} weights "
                          f"{regions['weights']}, which are not there; the export needs them to "
                          f"cut and encode served images: set image.options.weights=FILE")
    if sha256(path) != regions["weights_sha256"]:
        raise ConfigError(f"{path} is not the weights the region features were extracted with "
                          f"({regions['weights']}, sha256 {regions['weights_sha256'][:12]}...)")
    cnn = build_image_tower(regions["backbone"], (*regions["crop_size"], 3), weights=path)
    cnn.trainable = False
    return cnn


def region_feature_serving(regions, cnn, tower):
    """(export image input, serving image tower) of a model trained on region features.

    With the extraction `cnn`: served bytes are decoded at grid x crop pixels (a 3x3 grid of
    224-pixel crops: 672 x 672, so each cell is resampled once, as the extractor's PIL crop of
    the original is), the file's boxes are cut in the graph, the CNN runs per crop, then the
    trained `tower`. PIL's resize is not TF's, so served region features approximate the
    file's (Lite0, 20 Flickr8k images: mean cosine 0.987 whole image, 0.983 grid cells).
    Without a CNN (random-init backbone) `embed_image` takes the R x D features flattened."""
    r, d = regions["features"].shape[1:]
    if cnn is None:
        flat = keras.Input((r * d,), name="region_features")
        return ("features", r * d), keras.Model(
            flat, tower(keras.layers.Reshape((r, d))(flat)), name="serving_image_tower")
    size = tuple(int(s) * max(1, regions["grid"]) for s in regions["crop_size"])
    return ("pixels", size), serving_region_tower(tower, size, regions["boxes"],
                                                  regions["crop_size"], cnn)
