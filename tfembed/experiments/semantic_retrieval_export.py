"""Export of a semantic-retrieval run through the shared path: the run bundle (model.keras with
its tf-idf text tower, the text preprocessor, the test images as gallery) published by
`run_bundle.export_run`, the same code as `tfembed export RUN_DIR`. Signatures: embed_image,
embed_text, retrieve (text query) and retrieve_image_text (image + text query, the (V+T)
query of Gordo & Larlus 2017, e.g. an image plus "wedding"; model_export builds it)."""

import numpy as np

from tfembed.export import run_bundle
from tfembed.export import signatures as sig
from tfembed.training.strategy import is_chief


def save_bundle(cfg, workdir, model, data, rows):
    """RUN_DIR/exportable/: the evaluated model and the phi(I) gallery of the test images."""
    if not is_chief():
        return None
    from tfembed.experiments.semantic_retrieval import embed_images

    gallery = embed_images(model, data.load_image, rows)
    return run_bundle.save(
        workdir, model, data.image_kind, data.text.preprocessor,
        gallery=([data.dataset.image_ids[r] for r in rows], np.asarray(gallery, np.float32)),
        k=cfg["export"]["top_k"], model_name=cfg["recipe"],
        example_texts=data.dataset.texts[rows[0]][:2], endpoints=[sig.RETRIEVE_IMAGE_TEXT])
