"""`export_model(model, base_dir, ...)`: the one way a trained JointEmbedding is published.

The signatures come from the model contract (`encode_image`, `encode_text`, `score`) and the
text preprocessor (raw strings in the graph); a recipe only says what its image input is and
what to bake in (a gallery for `retrieve`, class prototypes for `classify_prototypes`). The
writing, version numbering, atomic publish and finite-output check are `exporter.export`.
"""

import numpy as np
import tensorflow as tf

from tfembed.export import exporter

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
    flattened alignment vectors); endpoints: extra (name, fn, input_signature) signatures.
    """
    kind, size = image_input
    if text_fn is None and preprocessor is not None:
        text_fn = lambda strings: model.encode_text(preprocessor(strings))  # noqa: E731
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


def as_pairs(names, embeddings):
    """(names, float32 embeddings [N, ...] flattened to [N, D]) for a gallery / prototypes."""
    embeddings = np.asarray(embeddings, np.float32)
    return list(names), embeddings.reshape(len(embeddings), -1)
