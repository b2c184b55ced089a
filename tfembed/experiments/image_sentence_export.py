"""What an image-sentence run keeps for `tfembed export RUN_DIR` (tfembed.export.run_bundle):
the JointEmbedding, its TextPreprocessor, the test images' embeddings as the `retrieve`
gallery, and (when the image tower does not start from the served input) the serving image
tower: served images arrive as bytes without boxes, so alignment models cut the whole image +
the fixed grid in the graph, and a frozen CNN whose features the tower trained on runs in
front of it. The baked-in gallery keeps the regions the model was evaluated with."""

from tfembed.export import run_bundle
from tfembed.training.strategy import is_chief


def save_bundle(cfg, workdir, model, text, image, dataset, rows, embedded):
    """`embedded`: image_sentence.embed's output for `rows` (the evaluated test images)."""
    if not is_chief():
        return None
    images, _, _, strings = embedded
    image_input, serving_tower = image.serving(model.image_tower)
    return run_bundle.save(workdir, model, image_input, text.preprocessor,
                           gallery=([dataset.image_ids[r] for r in rows], images),
                           k=cfg["export"]["top_k"], model_name=cfg["recipe"],
                           example_texts=strings[:2], image_tower=serving_tower)
