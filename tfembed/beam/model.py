"""The exported SavedModel on the Beam side: which version, what `embed_image` takes, and a
RunInference ModelHandler that calls it on batches.

The version and the signature's input are read from saved_model.pb in the launching process
(no TensorFlow graph is loaded there), so a wrong --model fails before the pipeline starts.
"""

import os

import numpy as np
from apache_beam.ml.inference.base import ModelHandler

from tfembed.errors import DataError
from tfembed.export import signatures as sig

SIGNATURE = sig.EMBED_IMAGE


def _gfile():
    import tensorflow as tf

    return tf.io.gfile


def signature_input(version_dir):
    """-> (input name 'image' or 'features', feature dim or None) of embed_image."""
    from tensorflow.core.protobuf import saved_model_pb2

    path = os.path.join(version_dir, "saved_model.pb")
    try:
        with _gfile().GFile(path, "rb") as f:
            saved = saved_model_pb2.SavedModel.FromString(f.read())
    except Exception as err:
        raise DataError(f"unreadable SavedModel: {type(err).__name__}: {err}", path) from None
    signatures = {}
    for meta_graph in saved.meta_graphs:
        if "serve" in meta_graph.meta_info_def.tags:
            signatures = meta_graph.signature_def
    if SIGNATURE not in signatures:
        raise DataError(f"the model has no {SIGNATURE!r} signature (has "
                        f"{', '.join(sorted(k for k in signatures if not k.startswith('__')))})",
                        version_dir)
    inputs = signatures[SIGNATURE].inputs
    if set(inputs) == {sig.IMAGE}:
        return sig.IMAGE, None
    if set(inputs) == {sig.FEATURES}:
        dims = [d.size for d in inputs[sig.FEATURES].tensor_shape.dim]
        return sig.FEATURES, (dims[1] if len(dims) == 2 and dims[1] > 0 else None)
    raise DataError(f"{SIGNATURE} must take {sig.IMAGE!r} or {sig.FEATURES!r}, takes "
                    f"{sorted(inputs)}",
                    version_dir)


class LoadedModel:
    """The loaded module (keeps the variables alive) and its embed_image function; a class
    rather than a tuple because Beam's shared-model cache holds it by weak reference."""

    def __init__(self, module):
        self.module, self.embed_image = module, module.signatures[SIGNATURE]


def load_signature(version_dir):
    """tf.saved_model.load (registering TF Text ops first when the graph needs them)."""
    import tensorflow as tf

    try:
        module = tf.saved_model.load(version_dir, tags=["serve"])
    except Exception as err:
        if "Op type not registered" not in str(err):
            raise
        import tensorflow_text  # noqa: F401  (exported text towers may use TF Text ops)
        module = tf.saved_model.load(version_dir, tags=["serve"])
    return LoadedModel(module)


class EmbedImageHandler(ModelHandler):
    """Batches of encoded image bytes (or float feature vectors) -> embedding rows.

    RunInference loads the model once per worker process and shares it between its threads.
    run_inference returns bare float32 rows (not PredictionResult): the pipeline only needs
    the embedding next to the key, and dropping the input lets the image bytes be freed.
    """

    def __init__(self, version_dir, input_name, batch_size=64):
        super().__init__()
        self.version_dir, self.input_name, self.batch_size = version_dir, input_name, batch_size

    def batch_elements_kwargs(self):
        return {"min_batch_size": 1, "max_batch_size": self.batch_size}

    def load_model(self):
        return load_signature(self.version_dir)

    def run_inference(self, batch, model, inference_args=None):
        import tensorflow as tf

        if self.input_name == sig.IMAGE:
            values = np.empty(len(batch), dtype=object)
            values[:] = list(batch)
        else:
            values = np.stack(batch).astype(np.float32)
        outputs = model.embed_image(**{self.input_name: tf.constant(values)})
        return list(outputs[sig.EMBEDDING].numpy())

    def get_num_bytes(self, batch):
        return sum(len(x) if isinstance(x, bytes) else np.asarray(x).nbytes for x in batch)

    def get_metrics_namespace(self):
        return "tfembed_embed_image"
