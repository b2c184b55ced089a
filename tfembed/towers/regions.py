"""Image regions for region-word alignment (Karpathy & Fei-Fei 2015, Sec. 3.1.1): the whole
image plus region boxes (the data set's boxes where given, else a fixed grid), each cropped,
passed through a CNN and a learned projection v = W_m CNN(I_b) + b_m."""

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


def region_encoder(cnn, region_shape, embed_dim, name="region_encoder"):
    """[N, R, *region_shape] (crops or CNN features) -> [N, R, embed_dim]; `cnn` None = the
    input already holds CNN features."""
    inputs = keras.Input(tuple(region_shape), name="regions")
    x = keras.layers.TimeDistributed(cnn, name="region_cnn")(inputs) if cnn is not None else inputs
    x = keras.layers.Dense(embed_dim, name="region_projection")(x)
    return keras.Model(inputs, x, name=name)
