"""Tiny SavedModels with tfembed's serving signatures, for tests and benchmarks.

They follow the exporter's fixed contract (signature, input and output names)
without any trained weights: text is hashed into a small embedding table,
images are decoded, resized to 8x8 and projected.
"""

import io
import os
import shutil
import tempfile

import numpy as np
import tensorflow as tf

from tfembed.export import signatures as sig
from tfembed.serving.warmup import write_warmup_requests

MODEL = "toy"  # model name the tests serve the toy model under
SLOW_MS = 400  # per-call delay of the "slow" toy model used in overload tests
WARMUP = [(sig.EMBED_TEXT, {sig.TEXT: np.array(["warm up"])}),
          (sig.RETRIEVE, {sig.TEXT: np.array(["warm", "up"])})]
_TEXT = tf.TensorSpec([None], tf.string, name=sig.TEXT)
_IMAGE = tf.TensorSpec([None], tf.string, name=sig.IMAGE)
_CLASSES = tf.TensorSpec([None], tf.string, name=sig.CLASS_TEXTS)


class ToyModel(tf.Module):
    """embed_text / embed_image / classify / retrieve / serving_default.

    ``offset`` makes versions distinguishable; ``delay_ms`` makes embed_text
    slow (a tf.data sleep, which saves into the graph) for overload tests.
    """

    def __init__(self, dim=8, buckets=97, docs=10, k=3, offset=0.0, delay_ms=0):
        super().__init__()
        rng = tf.random.Generator.from_seed(1234)
        self.table = tf.Variable(rng.normal([buckets, dim]) + offset)
        self.proj = tf.Variable(rng.normal([8 * 8 * 3, dim]))
        self.doc_ids = tf.constant([f"doc-{i}" for i in range(docs)])
        self.docs = tf.Variable(tf.math.l2_normalize(rng.normal([docs, dim]), axis=1))
        self.buckets, self.k, self.delay_ms = buckets, k, delay_ms

    def _text(self, text):
        if self.delay_ms:
            from tensorflow.python.data.experimental.ops import testing
            ds = tf.data.Dataset.range(1).apply(testing.sleep(int(self.delay_ms * 1000)))
            zero = ds.reduce(tf.constant(0, tf.int64), lambda a, b: a + b)
            with tf.control_dependencies([zero]):  # the lookup waits for the sleep
                text = tf.identity(text)
        ids = tf.strings.to_hash_bucket_fast(text, self.buckets)
        return tf.math.l2_normalize(tf.gather(self.table, ids), axis=1)

    def _image(self, image):
        def one(data):
            pixels = tf.io.decode_image(data, channels=3, expand_animations=False)
            return tf.reshape(tf.image.resize(tf.cast(pixels, tf.float32) / 255.0, [8, 8]), [-1])

        flat = tf.map_fn(one, image, fn_output_signature=tf.TensorSpec([192], tf.float32))
        return tf.math.l2_normalize(tf.matmul(flat, self.proj), axis=1)

    @tf.function(input_signature=[_TEXT])
    def embed_text(self, text):
        return {sig.EMBEDDING: self._text(text)}

    @tf.function(input_signature=[_IMAGE])
    def embed_image(self, image):
        return {sig.EMBEDDING: self._image(image)}

    @tf.function(input_signature=[_IMAGE, _CLASSES])
    def classify(self, image, class_texts):
        scores = tf.matmul(self._image(image), self._text(class_texts), transpose_b=True)
        return {sig.SCORES: scores}

    @tf.function(input_signature=[_TEXT])
    def retrieve(self, text):
        top = tf.math.top_k(tf.matmul(self._text(text), self.docs, transpose_b=True), k=self.k)
        return {sig.IDS: tf.gather(self.doc_ids, top.indices), sig.SCORES: top.values}

    def signatures(self):
        return {sig.SERVING_DEFAULT: self.embed_text, sig.EMBED_TEXT: self.embed_text,
                sig.EMBED_IMAGE: self.embed_image, sig.CLASSIFY: self.classify,
                sig.RETRIEVE: self.retrieve}


def save_toy_model(path, warmup=None, model_name="toy", **kwargs):
    """Save a ToyModel SavedModel at ``path``; warmup: list for write_warmup_requests."""
    module = ToyModel(**kwargs)
    tf.saved_model.save(module, os.fspath(path), signatures=module.signatures())
    if warmup:
        write_warmup_requests(path, model_name, warmup)
    return os.fspath(path)


def publish(base_path, version, writer):
    """Publish atomically like the exporter: write to a temp dir, then rename.

    writer(tmp_path) fills the directory (e.g. ``lambda p: save_toy_model(p)``).
    """
    os.makedirs(base_path, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=base_path)
    target = os.path.join(tmp, "model")
    writer(target)
    final = os.path.join(base_path, str(version))
    os.rename(target, final)
    shutil.rmtree(tmp, ignore_errors=True)
    return final


def png_bytes(width=16, height=12, color=(200, 30, 30)):
    """A small solid-colour PNG."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format="PNG")
    return buf.getvalue()


def jpeg_bytes(width=20, height=20, color=(10, 120, 240)):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format="JPEG")
    return buf.getvalue()


def strings(*values):
    """str/bytes -> np object array of bytes (a DT_STRING tensor)."""
    out = np.empty(len(values), dtype=object)
    out[:] = [v.encode("utf-8") if isinstance(v, str) else v for v in values]
    return out


def predict_request(signature, inputs, model=MODEL, version=None):
    """A PredictRequest built the way any TF Serving client builds one."""
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.model_spec.signature_name = signature
    if version is not None:
        request.model_spec.version.value = version
    for key, value in inputs.items():
        request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
    return request


def run_inprocess(loaded, signature, inputs):
    """Call a loaded SavedModel's signature directly: the reference outputs."""
    fn = loaded.signatures[signature]
    return {k: v.numpy() for k, v in fn(**{k: tf.constant(v) for k, v in inputs.items()}).items()}
