"""`synthetic_scenes`: a deterministic image-sentence retrieval set the package draws itself.

Each image holds 2-3 objects (shape, colour, size) on a noisy background, with one region box
per object and 5 varied captions naming objects, attributes and spatial relations ("a red
circle to the left of a small blue square"). One class per image (labels = arange), so
retrieval is instance-level as on Flickr; only the text ties a caption to its image.
"""

import numpy as np

from tfembed.data.dataset import Dataset
from tfembed.data.sources import _scene_render, _scene_text
from tfembed.data.sources._formats import check_options
from tfembed.errors import ConfigError

DEFAULTS = dict(num_train=3000, num_val=200, num_test=1000, captions_per_image=5, image_size=64,
                min_objects=2, max_objects=3, seed=0)


def _objects(rng, count):
    """`count` objects on distinct cells of a 3x3 layout (with jitter): relations stay clear."""
    cells = rng.choice(9, count, replace=False)
    objects = []
    for cell in cells:
        size = str(rng.choice(list(_scene_render.SIZES)))
        r = _scene_render.SIZES[size]
        cy = (cell // 3 + 0.5) / 3 + rng.uniform(-0.015, 0.015)
        cx = (cell % 3 + 0.5) / 3 + rng.uniform(-0.015, 0.015)
        objects.append({"shape": str(rng.choice(_scene_render.SHAPES)),
                        "color": str(rng.choice(list(_scene_render.COLORS))), "size": size,
                        "cy": float(np.clip(cy, r, 1 - r)), "cx": float(np.clip(cx, r, 1 - r))})
    return objects


def load(root=None, **options):
    """Generate the data set (seconds, no files). Options: see DEFAULTS."""
    opt = check_options("synthetic_scenes", options, DEFAULTS)
    if not 2 <= opt["min_objects"] <= opt["max_objects"] <= 9:
        raise ConfigError("synthetic_scenes: need 2 <= min_objects <= max_objects <= 9")
    if opt["num_train"] < 1 or opt["num_test"] < 1 or opt["captions_per_image"] < 1:
        raise ConfigError("synthetic_scenes: num_train, num_test and captions_per_image must be >= 1")
    rng = np.random.default_rng(opt["seed"])
    n = opt["num_train"] + opt["num_val"] + opt["num_test"]
    images, texts, boxes, scenes = [], [], [], []
    for _ in range(n):
        objects = _objects(rng, int(rng.integers(opt["min_objects"], opt["max_objects"] + 1)))
        images.append(_scene_render.render(objects, opt["image_size"], rng))
        texts.append([_scene_text.describe(objects, rng) for _ in range(opt["captions_per_image"])])
        boxes.append(np.stack([_scene_render.box(o) for o in objects]).astype(np.float32))
        scenes.append(objects)
    bounds = np.cumsum([0, opt["num_train"], opt["num_val"], opt["num_test"]])
    splits = {name: np.arange(bounds[i], bounds[i + 1])
              for i, name in enumerate(("train", "val", "test"))}
    ids = [f"scene_{i:05d}" for i in range(n)]
    return Dataset(name="synthetic_scenes", image_ids=ids, labels=np.arange(n), class_names=ids,
                   texts=texts, splits=splits, images=np.stack(images), boxes=boxes,
                   meta={"options": opt, "objects": scenes})
