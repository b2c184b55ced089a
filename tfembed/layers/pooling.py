"""Global descriptors of a convolutional feature map: R-MAC (Tolias, Sicre, Jegou 2016, with
the learned shift + projection of Gordo et al. 2016) and GeM (Radenovic et al. 2018)."""

import keras
import numpy as np
import tensorflow as tf


def rmac_regions(height, width, levels=3, overlap=0.4):
    """Square regions (y, x, size) of the R-MAC rigid grid on a height x width map.

    Level l has regions of side floor(2 min(H, W) / (l + 1)), l + extra per dimension, with
    the extra count on the long side chosen so consecutive regions overlap by ~`overlap`.
    """
    w = min(height, width)
    steps = np.arange(2, 8)
    b = (max(height, width) - w) / (steps - 1)
    idx = int(np.argmin(np.abs((w * w - w * b) / (w * w) - overlap)))
    extra_w = idx + 1 if height < width else 0
    extra_h = idx + 1 if height > width else 0
    regions = []
    for level in range(1, levels + 1):
        side = int(np.floor(2 * w / (level + 1)))
        half = int(np.floor(side / 2 - 1))
        if side == 0:
            continue

        def starts(length, count):
            step = (length - side) / (count - 1) if count > 1 else 0
            return [int(np.floor(half + k * step) - half) for k in range(count)]
        for y in starts(height, level + extra_h):
            for x in starts(width, level + extra_w):
                regions.append((y, x, side))
    return regions


@keras.saving.register_keras_serializable(package="tfembed")
class RMAC(keras.layers.Layer):
    """Regional max-activations: per region max-pool, l2, shared affine projection (the
    PCA-whitening-like shift + FC, learned), l2, sum over regions, l2. Needs a static H, W."""

    def __init__(self, levels=3, projection_dim=None, **kwargs):
        super().__init__(**kwargs)
        self.levels, self.projection_dim = int(levels), projection_dim

    def build(self, input_shape):
        height, width, channels = input_shape[1:]
        if height is None or width is None:
            raise ValueError("RMAC needs a static spatial size")
        self.regions = rmac_regions(int(height), int(width), self.levels)
        dim = int(self.projection_dim or channels)
        self.projection = keras.layers.Dense(dim, name="whiten")
        self.projection.build((None, int(channels)))
        if not self.projection_dim:  # start as the identity: plain R-MAC before training
            self.projection.set_weights([np.eye(dim, dtype="float32"), np.zeros(dim, "float32")])

    def regional_max(self, x):
        """[B, R, C]: the max activation of each region."""
        return tf.stack([tf.reduce_max(x[:, y:y + s, xx:xx + s, :], axis=[1, 2])
                         for y, xx, s in self.regions], axis=1)

    def call(self, x):
        r = tf.math.l2_normalize(self.regional_max(x), axis=-1)
        r = tf.math.l2_normalize(self.projection(r), axis=-1)
        return tf.math.l2_normalize(tf.reduce_sum(r, axis=1), axis=-1)

    def get_config(self):
        return {**super().get_config(), "levels": self.levels,
                "projection_dim": self.projection_dim}


@keras.saving.register_keras_serializable(package="tfembed")
class GeM(keras.layers.Layer):
    """Generalised mean pooling (mean of x^p)^(1/p) with a learned p; p=1 average, p->inf max."""

    def __init__(self, p=3.0, eps=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.p_init, self.eps = float(p), float(eps)

    def build(self, input_shape):
        self.p = self.add_weight(shape=(), initializer=keras.initializers.Constant(self.p_init),
                                 name="p")

    def call(self, x):
        x = tf.maximum(x, self.eps)
        return tf.pow(tf.reduce_mean(tf.pow(x, self.p), axis=[1, 2]), 1.0 / self.p)

    def get_config(self):
        return {**super().get_config(), "p": self.p_init, "eps": self.eps}
