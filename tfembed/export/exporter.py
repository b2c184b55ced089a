"""One exporter for every recipe: named signatures over raw strings / encoded images, numbered
version directories `<base>/<version>/` published atomically (write elsewhere, then rename),
TF Serving warm-up requests. Core TF ops only, no jit_compile, no Python in the graph.

Every signature answers an empty batch with 0 rows of the right shape ([0, D]), and `classify`
refuses an empty `class_texts` with INVALID_ARGUMENT, in the graph, so stock TF Serving behaves
the same. Before publishing, the written SavedModel is loaded and its warm-up requests are run:
a model with NaN / inf outputs (or a baked-in gallery / prototypes that are not finite) is
refused with an ExportError naming the signature and output, and no version appears."""

import json
import os
import shutil
import uuid

import keras
import numpy as np
import tensorflow as tf

from tfembed.data.pipeline import decode_and_resize
from tfembed.errors import TfembedError
from tfembed.export import signatures as sig
from tfembed.export.versions import GALLERY_FILE, SERVING_INFO, load_saved_model


class ExportError(TfembedError):
    """The model must not be published (e.g. its outputs are not finite); nothing was written."""


def next_version(base_dir):
    versions = [int(d) for d in os.listdir(base_dir) if d.isdigit()] if os.path.isdir(base_dir) else []
    return max(versions, default=0) + 1


def _decode_batch(images, size):
    return tf.map_fn(lambda b: decode_and_resize(b, size), images,
                     fn_output_signature=tf.TensorSpec(list(size) + [3], tf.float32))


class ServingSpec:
    """What a trained joint model offers to serving.

    text_fn: strings [N] -> embeddings (None when the text side is not text, e.g. attributes).
    image_fn: image input batch -> embeddings; image_kind "pixels" (with image_size) or
    "features" (with feature_dim). score_fn: (image emb, text emb) -> scores.
    prototypes: optional (class names, class embeddings) baked in for `classify_prototypes`.
    gallery: optional (ids, image embeddings) baked in for `retrieve` (top `k`).
    endpoints: optional extra (name, fn, input_signature) signatures a recipe adds.
    metric: the scorer as a vector similarity ("dot", "cosine", "neg_sq_distance"), recorded in
    assets.extra/tfembed.json so `tfembed index build` can index the gallery the same way;
    None when the score is not one (e.g. region-word alignment).
    """

    def __init__(self, track, image_fn, score_fn, image_kind, image_size=None, feature_dim=None,
                 text_fn=None, prototypes=None, gallery=None, k=10, endpoints=(), metric=None):
        self.track, self.text_fn, self.image_fn, self.score_fn = track, text_fn, image_fn, score_fn
        self.image_kind, self.image_size, self.feature_dim = image_kind, image_size, feature_dim
        self.prototypes, self.gallery, self.k = prototypes, gallery, k
        self.endpoints = list(endpoints)
        self.metric = metric


def _image_input(spec):
    if spec.image_kind == "features":
        return tf.TensorSpec([None, spec.feature_dim], tf.float32, name=sig.FEATURES), sig.FEATURES
    return tf.TensorSpec([None], tf.string, name=sig.IMAGE), sig.IMAGE


def _placeholders(spec):
    """One harmless example row per batch input kind ({input name: [1, ...] tensor})."""
    if spec.image_kind == "pixels":
        png = tf.io.encode_png(tf.zeros([8, 8, 3], tf.uint8)).numpy()
        image = tf.constant([png])
    else:
        image = tf.zeros([1, spec.feature_dim], tf.float32)
    return {_image_input(spec)[1]: image, sig.TEXT: tf.constant(["a"])}


def _allow_empty(fn, placeholders):
    """fn over batch inputs that may all be empty ([0, ...]).

    Many towers cannot run a 0-row batch (convolutions, batch norm and text CNNs fail inside the
    graph), so an empty batch runs one placeholder row instead and keeps 0 rows of each output:
    the answer is [0, D] etc., in stock TF Serving too. Non-empty batches run unchanged.
    """
    def wrapped(*inputs):
        empty = tf.reduce_all(tf.stack([tf.equal(tf.shape(x)[0], 0) for x in inputs]))
        safe = [tf.cond(empty, lambda p=p: p, lambda x=x: x) for x, p in zip(inputs, placeholders)]
        rows = lambda t: tf.where(empty, 0, tf.shape(t)[0])  # noqa: E731
        return tf.nest.map_structure(lambda t: t[:rows(t)] if t.shape.rank else t, fn(*safe))
    return wrapped


def _batch_placeholders(signature, placeholders):
    """Placeholders for an endpoint's inputs, or None when one is not a known batch input."""
    out = []
    for s in signature:
        p = placeholders.get(s.name)
        if p is None or s.shape.rank is None or s.shape[0] is not None or p.dtype != s.dtype:
            return None
        out.append(p)
    return out


def _build_archive(spec):
    archive = keras.export.ExportArchive()
    for obj in spec.track:
        archive.track(obj)
    store = tf.Module()  # baked-in prototypes and gallery live here as variables
    image_spec, image_name = _image_input(spec)
    text_spec = tf.TensorSpec([None], tf.string, name=sig.TEXT)
    placeholders = _placeholders(spec)
    image_row, text_row = [placeholders[image_name]], [placeholders[sig.TEXT]]

    def image_embed(x):
        if spec.image_kind == "pixels":
            x = _decode_batch(x, spec.image_size)
        return spec.image_fn(x)

    def embed_image_fn(x):
        return {sig.EMBEDDING: image_embed(x)}
    archive.add_endpoint(sig.EMBED_IMAGE, _allow_empty(embed_image_fn, image_row),
                         input_signature=[image_spec])
    if spec.text_fn is not None:
        embed_text = _allow_empty(lambda text: {sig.EMBEDDING: spec.text_fn(text)}, text_row)
        archive.add_endpoint(sig.EMBED_TEXT, embed_text, input_signature=[text_spec])
        archive.add_endpoint(sig.SERVING_DEFAULT, embed_text, input_signature=[text_spec])

        def classify(x, class_texts):
            # Scores against no classes are no answer: INVALID_ARGUMENT, in the graph.
            check = tf.debugging.Assert(tf.size(class_texts) > 0, [
                "classify: class_texts is empty; give at least one class text"])
            with tf.control_dependencies([check]):
                classes = spec.text_fn(tf.identity(class_texts))
            return _allow_empty(lambda x: {sig.SCORES: spec.score_fn(image_embed(x), classes)},
                                image_row)(x)
        archive.add_endpoint(sig.CLASSIFY, classify, input_signature=[
            image_spec, tf.TensorSpec([None], tf.string, name=sig.CLASS_TEXTS)])
    if spec.prototypes is not None:
        names, embeddings = spec.prototypes
        store.class_names = tf.Variable(np.asarray(names, dtype=object), trainable=False)
        store.class_embeddings = tf.Variable(np.asarray(embeddings, np.float32), trainable=False)

        def classify_prototypes(x):
            scores = spec.score_fn(image_embed(x), store.class_embeddings)
            best = tf.argmax(scores, axis=1)
            return {sig.SCORES: scores, sig.CLASSES: tf.gather(store.class_names, best)}
        archive.add_endpoint(sig.CLASSIFY_PROTOTYPES, _allow_empty(classify_prototypes, image_row),
                             input_signature=[image_spec])
    if spec.gallery is not None and spec.text_fn is not None:
        ids, embeddings = spec.gallery
        # Kept as weights inside the SavedModel (brute force, as TFRS BruteForce does).
        store.gallery_ids = tf.Variable(np.asarray(ids, dtype=object), trainable=False)
        store.gallery_embeddings = tf.Variable(np.asarray(embeddings, np.float32), trainable=False)
        k = min(spec.k, len(ids))

        def retrieve(text):
            scores = tf.transpose(spec.score_fn(store.gallery_embeddings, spec.text_fn(text)))
            top = tf.math.top_k(scores, k=k)
            return {sig.IDS: tf.gather(store.gallery_ids, top.indices), sig.SCORES: top.values}
        archive.add_endpoint(sig.RETRIEVE, _allow_empty(retrieve, text_row),
                             input_signature=[text_spec])
    for name, fn, signature in spec.endpoints:
        rows = _batch_placeholders(signature, placeholders)  # a recipe's own batch endpoints too
        archive.add_endpoint(name, _allow_empty(fn, rows) if rows else fn,
                             input_signature=signature)
    archive.track(store)
    return archive


def warmup_requests(spec, example_image, example_texts):
    """One request per signature the exporter builds: TF Serving replays them before serving
    a version, and export() checks their outputs are finite before publishing it."""
    if spec.image_kind == "pixels":
        image = {sig.IMAGE: np.asarray([example_image], dtype=object)}
    else:
        image = {sig.FEATURES: np.zeros((1, spec.feature_dim), np.float32)}
    requests = [(sig.EMBED_IMAGE, image)]
    texts = np.asarray(list(example_texts), dtype=object)
    if spec.text_fn is not None and len(texts):
        requests += [(sig.EMBED_TEXT, {sig.TEXT: texts}),
                     (sig.CLASSIFY, {**image, sig.CLASS_TEXTS: texts})]
        if spec.gallery is not None:
            requests.append((sig.RETRIEVE, {sig.TEXT: texts}))
    if spec.prototypes is not None:
        requests.append((sig.CLASSIFY_PROTOTYPES, image))
    return requests


def _check_baked_in(spec):
    """Gallery and prototype embeddings are outputs too (retrieve / classify_prototypes)."""
    for what, pair in (("gallery", spec.gallery), ("prototypes", spec.prototypes)):
        if pair is None:
            continue
        names, embeddings = pair
        embeddings = np.asarray(embeddings, np.float32).reshape(len(names), -1)
        bad = np.flatnonzero(~np.isfinite(embeddings).all(axis=1))
        if len(bad):
            raise ExportError(f"{what} embedding row {bad[0]} ({names[bad[0]]!r}) is not finite "
                              f"(NaN or inf; {len(bad)} rows in all): nothing was exported")


def _check_outputs_finite(path, requests):
    """Run the warm-up requests on the SavedModel written at `path`; refuse NaN / inf outputs."""
    loaded = load_saved_model(path)
    for i, (name, inputs) in enumerate(requests):
        if name not in loaded.signatures:
            raise ExportError(f"warm-up request {i}: no signature {name!r} in the export")
        outputs = loaded.signatures[name](**{k: tf.constant(v) for k, v in inputs.items()})
        for key, value in sorted(outputs.items()):
            value = value.numpy()
            if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
                raise ExportError(f"signature '{name}' output '{key}' is not finite (NaN or inf) "
                                  f"on warm-up request {i}: the model was not exported")


def _write_serving_info(spec, path):
    """What tools outside the graph need to know (TF Serving ignores this file)."""
    info = {"metric": spec.metric, "top_k": spec.k, "image_input": _image_input(spec)[1],
            "has_text": spec.text_fn is not None, "gallery_size": (
                len(spec.gallery[0]) if spec.gallery is not None else 0),
            # classify_prototypes' score columns in order (tfembed.load: Probabilities.classes)
            "prototype_names": ([str(n) for n in spec.prototypes[0]]
                                if spec.prototypes is not None else [])}
    os.makedirs(os.path.join(path, "assets.extra"), exist_ok=True)
    with open(os.path.join(path, "assets.extra", SERVING_INFO), "w") as f:
        json.dump(info, f, indent=2)
    if spec.gallery is not None:  # the same gallery, readable without TF (index build)
        ids, embeddings = spec.gallery
        np.savez(os.path.join(path, "assets.extra", GALLERY_FILE),
                 ids=np.asarray([str(i) for i in ids]), embeddings=np.asarray(embeddings, np.float32))


def export(spec, base_dir, version=None, model_name="tfembed", warmup=None):
    """Write a SavedModel to `<base_dir>/<version>/` atomically; returns the version path."""
    os.makedirs(base_dir, exist_ok=True)
    version = version or next_version(base_dir)
    final = os.path.join(base_dir, str(version))
    if os.path.exists(final):
        raise FileExistsError(f"export version already exists: {final}")
    _check_baked_in(spec)
    tmp = os.path.join(base_dir, f".tmp-{version}-{uuid.uuid4().hex[:8]}")
    try:
        _build_archive(spec).write_out(tmp, verbose=False)
        if warmup:
            from tfembed.serving.warmup import write_warmup_requests
            write_warmup_requests(tmp, model_name, warmup)
            _check_outputs_finite(tmp, warmup)
        _write_serving_info(spec, tmp)
        os.rename(tmp, final)  # atomic on one file system: a server never sees half a model
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final
