"""R-MAC regions per Tolias et al. 2016 on hand-worked sizes, R-MAC and GeM on a hand map."""

import numpy as np
import tensorflow as tf

from tfembed.layers.pooling import RMAC, GeM, rmac_regions


def test_regions_square_map():
    # 6x6, 2 levels: one 6x6 region, then 2x2 regions of side 4 at offsets 0 and 2.
    assert rmac_regions(6, 6, 2) == [(0, 0, 6), (0, 0, 4), (0, 2, 4), (2, 0, 4), (2, 2, 4)]


def test_regions_wide_map_get_an_extra_column():
    # 4x6: overlap target 0.4 picks one extra region on the long side -> two 4x4 at x=0, x=2.
    assert rmac_regions(4, 6, 1) == [(0, 0, 4), (0, 2, 4)]
    assert rmac_regions(6, 4, 1) == [(0, 0, 4), (2, 0, 4)]


def test_rmac_on_hand_made_map():
    x = np.zeros((1, 4, 6, 2), np.float32)
    x[0, 0, 0] = [3.0, 0.0]   # only in the left region
    x[0, 3, 5] = [0.0, 4.0]   # only in the right region
    layer = RMAC(levels=1)
    layer.build(x.shape)
    np.testing.assert_allclose(layer.regional_max(tf.constant(x)), [[[3.0, 0.0], [0.0, 4.0]]])
    # identity projection: normalised regions (1,0) + (0,1), then l2.
    np.testing.assert_allclose(layer(tf.constant(x)).numpy(), [[2 ** -0.5, 2 ** -0.5]], atol=1e-6)


def test_gem_between_mean_and_max():
    x = tf.constant(np.arange(1, 5, dtype=np.float32).reshape(1, 2, 2, 1))
    np.testing.assert_allclose(GeM(p=1.0)(x).numpy(), [[2.5]], rtol=1e-5)
    np.testing.assert_allclose(GeM(p=3.0)(x).numpy(), [[(np.mean(np.arange(1, 5) ** 3)) ** (1 / 3)]],
                               rtol=1e-5)
