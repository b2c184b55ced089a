"""In-memory images reach the towers as the export's decode_and_resize would give them."""

import types

import numpy as np
import tensorflow as tf

from tfembed.data import pipeline


def test_in_memory_resize_equals_the_exported_decode_and_resize():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 40, 40, 3), dtype=np.uint8)
    ds = types.SimpleNamespace(features=None, images=images, image_paths=None)
    load, kind = pipeline.image_source(ds, np.arange(3), image_size=(16, 16))
    assert kind == ("pixels", (16, 16))
    for i in range(3):
        png = tf.io.encode_png(images[i])
        exported = pipeline.decode_and_resize(png, (16, 16)).numpy()
        # Without antialias the two differ by tens of grey levels on noisy pixels.
        np.testing.assert_allclose(load(tf.constant(i)).numpy(), exported, atol=1e-3)
