"""What a WSABIE / DeViSE export must answer like the in-process model (shared by their tests)."""

import numpy as np
import tensorflow as tf

from tfembed.export import signatures as sig


def assert_serves_like(loaded, model, labels, names):
    """embed_image equals the model's image embedding of two random PNGs, and
    classify_prototypes scores them against the label vectors `labels` [C, D] and names the
    best of `names` [C]."""
    pixels = np.random.default_rng(0).integers(0, 255, (2, 32, 32, 3)).astype(np.uint8)
    pngs = tf.stack([tf.io.encode_png(p) for p in pixels])
    want = np.asarray(model.encode_image(pixels.astype(np.float32)))
    got = loaded.signatures[sig.EMBED_IMAGE](**{sig.IMAGE: pngs})[sig.EMBEDDING].numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    out = loaded.signatures[sig.CLASSIFY_PROTOTYPES](**{sig.IMAGE: pngs})
    scores = want @ np.asarray(labels).T
    np.testing.assert_allclose(out[sig.SCORES].numpy(), scores, rtol=1e-4, atol=1e-4)
    assert [c.decode() for c in out[sig.CLASSES].numpy()] == \
        [names[i] for i in np.argmax(scores, axis=1)]
