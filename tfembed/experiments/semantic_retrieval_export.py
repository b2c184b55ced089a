"""Export of a semantic-retrieval model: embed_image, embed_text (in-graph caption tf-idf ->
theta), retrieve (text query) and retrieve_image_text (image + text query, the (V+T) query of
Gordo & Larlus 2017, e.g. an image plus "wedding"), over the test images as gallery."""

import os

import numpy as np
import tensorflow as tf

from tfembed import scorers
from tfembed.data.pipeline import decode_and_resize
from tfembed.export import exporter


def export_model(cfg, workdir, model, data, rows, version=None):
    dataset, tfidf, _, load_image, (kind, size) = data
    from tfembed.experiments.semantic_retrieval import embed_images

    tfidf_layer = tfidf.keras_layer()
    gallery = embed_images(model, load_image, rows)
    store = tf.Module()
    store.ids = tf.Variable(np.asarray([dataset.image_ids[r] for r in rows], dtype=object),
                            trainable=False)
    store.embeddings = tf.Variable(gallery.astype(np.float32), trainable=False)
    k = min(cfg["export"]["top_k"], len(rows))

    def text_fn(text):
        return model.encode_text(tfidf_layer(text))

    def image_fn(x):
        if kind == "pixels":
            x = tf.map_fn(lambda b: decode_and_resize(b, size), x,
                          fn_output_signature=tf.TensorSpec(list(size) + [3], tf.float32))
        return model.encode_image(x)

    def retrieve_image_text(image, text):
        query = tf.math.l2_normalize(image_fn(image) + text_fn(text), axis=-1)
        top = tf.math.top_k(tf.matmul(query, store.embeddings, transpose_b=True), k=k)
        return {"ids": tf.gather(store.ids, top.indices), "scores": top.values}

    image_spec = (tf.TensorSpec([None], tf.string, name="image") if kind == "pixels" else
                  tf.TensorSpec([None, size], tf.float32, name="features"))
    spec = exporter.ServingSpec(
        track=[model, tfidf_layer, store], image_fn=model.encode_image, score_fn=scorers.dot,
        image_kind=kind, image_size=size if kind == "pixels" else None,
        feature_dim=size if kind == "features" else None, text_fn=text_fn,
        gallery=([dataset.image_ids[r] for r in rows], gallery), k=cfg["export"]["top_k"], metric="dot",
        endpoints=[("retrieve_image_text", retrieve_image_text,
                    [image_spec, tf.TensorSpec([None], tf.string, name="text")])])
    example = (tf.io.encode_png(tf.zeros(list(size) + [3], tf.uint8)).numpy()
               if kind == "pixels" else None)
    path = exporter.export(spec, os.path.join(workdir, "export"), version=version,
                           model_name=cfg["recipe"],
                           warmup=exporter.warmup_requests(spec, example, dataset.texts[rows[0]][:2]))
    print(f"exported SavedModel: {path}")
    return path
