"""`export_model(model, base_dir, ...)`: the one way a trained JointEmbedding is published.

The signatures come from the model contract (`encode_image`, `encode_text`, `score`) and the
text preprocessor (raw strings in the graph); a recipe only says what its image input is and
what to bake in (a gallery for `retrieve`, class prototypes for `classify_prototypes`). The
writing, version numbering, atomic publish and finite-output check are `exporter.export`.
"""

import numpy as np
import tensorflow as tf

from tfembed.data.pipeline import decode_and_resize
from tfembed.errors import ConfigError
from tfembed.export import exporter
from tfembed.export import signatures as sig

VECTOR_SCORERS = ("dot", "cosine", "neg_sq_distance")  # indexable by `tfembed index build`


def export_model(model, base_dir, image_input, preprocessor=None, gallery=None, prototypes=None,
                 k=10, image_fn=None, text_fn=None, score_fn=None, endpoints=(), track=(),
                 example_texts=(), version=None, model_name="tfembed"):
    """Publish `model` under `base_dir/<version>/`; returns the version path.

    image_input: ("pixels", (H, W)) for encoded image bytes, or ("features", F).
    preprocessor: strings -> the text tower's inputs (None: the text side is not text, e.g.
    attributes; then there is no embed_text / classify / retrieve).
    gallery: (ids, image embeddings); prototypes: (class names, class embeddings).
    image_fn / text_fn / score_fn replace the model's own (e.g. regions cut in the graph,
    flattened alignment vectors); endpoints: extra (name, fn, input_signature) signatures, or
    names of NAMED_ENDPOINTS built from the same arguments (what a run bundle can store).
    """
    kind, size = image_input
    if text_fn is None and preprocessor is not None:
        text_fn = lambda strings: model.encode_text(_preprocess(preprocessor, strings))  # noqa: E731
    endpoints, track = list(endpoints), list(track)
    for i, endpoint in enumerate(endpoints):
        if isinstance(endpoint, str):
            endpoints[i], store = _named_endpoint(endpoint, model, image_input, image_fn, text_fn,
                                                  score_fn, gallery, k)
            track.append(store)
    spec = exporter.ServingSpec(
        track=[model] + ([preprocessor] if preprocessor is not None else []) + list(track),
        image_fn=image_fn or model.encode_image, score_fn=score_fn or model.score,
        image_kind=kind, image_size=tuple(size) if kind == "pixels" else None,
        feature_dim=int(size) if kind == "features" else None, text_fn=text_fn,
        prototypes=prototypes, gallery=gallery, k=k, endpoints=endpoints,
        metric=model.scorer_name if score_fn is None and model.scorer_name in VECTOR_SCORERS
        else None)
    example = (tf.io.encode_png(tf.zeros(list(size) + [3], tf.uint8)).numpy()
               if kind == "pixels" else None)
    texts = [str(t) for t in example_texts][:2] or (["a photo"] if text_fn is not None else [])
    path = exporter.export(spec, base_dir, version=version, model_name=model_name,
                           warmup=exporter.warmup_requests(spec, example, texts))
    print(f"exported SavedModel: {path}")
    return path


def _preprocess(preprocessor, strings):
    """The preprocessor's output with its static shape: counts (bincount over ragged tokens)
    come out of the graph with an unknown rank, which a functional text tower refuses."""
    x = preprocessor(strings)
    if x.shape.rank is None:
        x = tf.ensure_shape(x, preprocessor.compute_output_shape((None,)))
    return x


def retrieve_image_text(model, image_input, image_fn, text_fn, score_fn, gallery, k):
    """Gordo & Larlus 2017's (V+T) query: l2(image_fn(image) + text_fn(text)) scored against
    the gallery (image embeddings only, section 6) -> top-k ids and scores."""
    if gallery is None or text_fn is None:
        raise ConfigError("retrieve_image_text needs a gallery and a text side")
    kind, size = image_input
    store = tf.Module()  # the endpoint's own copy of the gallery
    store.ids = tf.Variable(np.asarray(gallery[0], dtype=object), trainable=False)
    store.embeddings = tf.Variable(np.asarray(gallery[1], np.float32), trainable=False)
    image_fn, score_fn = image_fn or model.encode_image, score_fn or model.score
    top_k = min(int(k), len(gallery[0]))

    def fn(image, text):
        if kind == "pixels":
            image = tf.map_fn(lambda b: decode_and_resize(b, size), image,
                              fn_output_signature=tf.TensorSpec(list(size) + [3], tf.float32))
        query = tf.math.l2_normalize(image_fn(image) + text_fn(text), axis=-1)
        top = tf.math.top_k(score_fn(query, store.embeddings), k=top_k)
        return {sig.IDS: tf.gather(store.ids, top.indices), sig.SCORES: top.values}

    image_spec = (tf.TensorSpec([None], tf.string, name=sig.IMAGE) if kind == "pixels" else
                  tf.TensorSpec([None, int(size)], tf.float32, name=sig.FEATURES))
    return (sig.RETRIEVE_IMAGE_TEXT, fn, [image_spec, tf.TensorSpec([None], tf.string,
                                                                   name=sig.TEXT)]), store


NAMED_ENDPOINTS = {sig.RETRIEVE_IMAGE_TEXT: retrieve_image_text}


def _named_endpoint(name, *args):
    if name not in NAMED_ENDPOINTS:
        raise ConfigError(f"unknown export endpoint {name!r}; known: {', '.join(NAMED_ENDPOINTS)}")
    return NAMED_ENDPOINTS[name](*args)


def as_pairs(names, embeddings):
    """(names, float32 embeddings [N, ...] flattened to [N, D]) for a gallery / prototypes."""
    embeddings = np.asarray(embeddings, np.float32)
    return list(names), embeddings.reshape(len(embeddings), -1)
