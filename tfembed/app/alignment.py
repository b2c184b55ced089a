"""Region–word alignment for Karpathy exports (Karpathy & Fei-Fei 2015, Sec. 3.1): which image
region each word of a sentence scores highest with, and the sentence's S_kl = sum over words
of the best region score v_i . s_t.

A Karpathy export's `embed_image` returns region vectors [N, R, D] (the whole image, then the
fixed grid the serving tower cuts in the graph: `tfembed.towers.regions`, R = 1 + max_regions)
and `embed_text` word vectors [N, L, D]. The words are the preprocessor's own tokens
(`word_tokens`), so position t is the t-th token the model saw.

An image of the baked-in gallery is aligned with the regions baked in for it: those the model
was evaluated with and `retrieve` scores (the data set's boxes when the run used them), so the
page's S equals the search score. Other images go through `embed_image` (the fixed grid). The
boxes drawn come from the run's recorded image section (regions, max_regions, grid) when the
export sits in its run directory.
"""

import json

import numpy as np

from tfembed.app.pictures import run_config_path
from tfembed.app.uploads import UploadError


def is_alignment_model(model):
    """True when the export's embeddings are sequences (regions / words), not one vector."""
    specs = getattr(model, "signatures", {})
    shape = specs.get("embed_image", {}).get("outputs", {}).get("embedding")
    return shape is not None and len(shape) == 3


def region_boxes(version_dir, count, own_boxes=None):
    """[count, 4] (y0, x0, y1, x1) in [0, 1] of the regions, or None when unknown.

    own_boxes: the data set's boxes of a gallery image, used when the run trained on them."""
    path = run_config_path(version_dir)
    if path is None:
        return None
    from tfembed.config import upgrade
    from tfembed.towers.regions import region_table

    with open(path) as f:
        image = upgrade(json.load(f)["config"]).get("image", {})
    own = [own_boxes] if own_boxes is not None and image.get("regions") == "boxes" else None
    boxes = region_table(own, 1, int(image.get("max_regions", count - 1)),
                         int(image.get("grid", 2)))[0]
    return boxes.tolist() if len(boxes) == count else None


def align(model, text, image_bytes=None, regions=None):
    """{"words": [{word, region, score, scores}], "regions": R, "total": S} for one sentence
    and one image: its baked-in region vectors [R, D], else its encoded bytes."""
    from tfembed.text.preprocessor import word_tokens

    tokens = word_tokens([text])[0]
    if not tokens:
        raise UploadError("the sentence has no words to align")
    if regions is None:
        regions = np.asarray(model.embed_image([image_bytes]), np.float32)[0]
    words = np.asarray(model.embed_text([text]), np.float32)[0]  # [L, D]
    tokens = tokens[:len(words)]  # longer sentences are cut at max_length by the model
    scores = words[:len(tokens)] @ np.asarray(regions, np.float32).T  # [T, R]
    best = scores.argmax(axis=1)
    return {"text": text, "regions": int(len(regions)), "total": float(scores.max(axis=1).sum()),
            "words": [{"word": w, "region": int(b), "score": float(s[b]),
                       "scores": [float(x) for x in s]}
                      for w, b, s in zip(tokens, best, scores)]}
