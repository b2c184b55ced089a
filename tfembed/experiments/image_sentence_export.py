"""Export of the image-sentence models: embed_text / embed_image / retrieve (+ classify) via
the shared exporter. Alignment models travel as flattened region / word vectors ([R*D] /
[L*D]) and score with S_kl in-graph; served images use the whole image + the fixed grid
(no boxes arrive with a request), while the baked-in retrieve gallery keeps the regions
the model was evaluated with."""

import os

import numpy as np
import tensorflow as tf

from tfembed.export import exporter
from tfembed.towers import regions as region_lib


def _image_fn(cfg, model, image):
    """Batch of decoded pixels (or features) -> flattened embeddings, core TF ops only."""
    cnn = image.cnn
    if image.source_kind[0] == "features":
        if model.kind == "alignment":
            return lambda x: model.flat(model.encode_image(x[:, None]))
        return model.encode_image
    if model.kind == "alignment":
        grid = tf.constant(region_lib.region_table(None, 1, cfg["image"]["max_regions"],
                                                   cfg["image"].get("grid", 2))[0])

        def regions_fn(x):
            crops = region_lib.crop_batch(x, grid, image.crop)
            if image.frozen:
                shape = tf.shape(crops)
                feats = cnn(tf.reshape(crops, tf.concat([[-1], shape[2:]], 0)), training=False)
                crops = tf.reshape(feats, [shape[0], shape[1], -1])
            return model.flat(model.encode_image(crops))
        return regions_fn
    if image.frozen:
        return lambda x: model.encode_image(cnn(x, training=False))
    return model.encode_image


def export_model(cfg, workdir, model, text, image, dataset, gallery_rows, embed_fn):
    images, _, _, _ = embed_fn()
    gallery = np.reshape(images, (len(images), -1))
    kind, size = image.source_kind
    tracked = [model, text.preprocessor] + ([image.cnn] if image.cnn is not None and image.frozen else [])
    spec = exporter.ServingSpec(
        track=tracked, image_fn=_image_fn(cfg, model, image), score_fn=model.flat_scorer(),
        image_kind=kind, image_size=size if kind == "pixels" else None,
        feature_dim=size if kind == "features" else None,
        text_fn=lambda s: model.flat(model.encode_text(text.preprocessor(s))),
        gallery=([dataset.image_ids[r] for r in gallery_rows], gallery), k=cfg["export"]["top_k"],
        metric=None if model.kind == "alignment" else "dot")
    example = tf.io.encode_png(tf.zeros(list(size) + [3], tf.uint8)).numpy() if kind == "pixels" else None
    path = exporter.export(spec, os.path.join(workdir, "export"), model_name=cfg["recipe"],
                           warmup=exporter.warmup_requests(spec, example, dataset.texts[gallery_rows[0]][:2]))
    print(f"exported SavedModel: {path}")
    return path
