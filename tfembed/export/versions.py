"""What the command-line tools share around a SavedModel: which version to use, loading it,
reading the image files they feed it."""

import os

from tfembed.errors import DataError

# Written by the exporter into <version>/assets.extra/ (TF Serving ignores them).
SERVING_INFO = "tfembed.json"  # scorer as a vector metric, top_k, image input kind
GALLERY_FILE = "gallery.npz"  # the baked-in retrieve gallery: ids + embeddings


def resolve_version(model_dir):
    """A SavedModel directory, or the newest complete numbered version under an export directory.

    Through tf.io.gfile, so gs:// (and other TF file systems) work as well as local paths.
    """
    from tensorflow.io import gfile

    model_dir = os.fspath(model_dir).rstrip("/")
    if gfile.exists(os.path.join(model_dir, "saved_model.pb")):
        return model_dir
    if not gfile.isdir(model_dir):
        raise DataError("model directory does not exist", model_dir)
    names = [d.rstrip("/") for d in gfile.listdir(model_dir)]
    versions = [int(d) for d in names
                if d.isdigit() and gfile.exists(os.path.join(model_dir, d, "saved_model.pb"))]
    if not versions:
        raise DataError("no numbered version with a saved_model.pb under the model directory "
                        "(expected <dir>/<version>/saved_model.pb)", model_dir)
    return os.path.join(model_dir, str(max(versions)))


def load_saved_model(path):
    """tf.saved_model.load, registering TF Text ops first when the model uses them."""
    import tensorflow as tf

    try:
        return tf.saved_model.load(path)
    except Exception as err:
        if "Op type not registered" not in str(err):
            raise
        import tensorflow_text  # noqa: F401  (registers the ops, then retry)
        return tf.saved_model.load(path)


def read_image_files(paths):
    """Encoded bytes of each image file (decoding is the model's job), DataError if missing."""
    encoded = []
    for path in paths:
        if not os.path.isfile(path):
            raise DataError("image file not found", path)
        with open(path, "rb") as f:
            encoded.append(f.read())
    return encoded
