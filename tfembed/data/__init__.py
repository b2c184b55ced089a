"""Data sources (synthetic and real formats), one Dataset representation, tf.data pipelines.

Each source lives in `tfembed/data/sources/<name>.py` and defines
`load(root=None, **options) -> Dataset`. Sources are imported lazily so the core stays light.
"""

import importlib

from tfembed.data.dataset import Dataset
from tfembed.errors import ConfigError

SOURCES = ("synthetic_birds", "synthetic_scenes", "cub", "flowers", "xlsa17", "awa2",
           "flickr8k", "flickr30k", "karpathy_json", "coco", "visual_genome")


def load(name, root=None, max_images_per_split=None, **options):
    """Load data source `name` (see SOURCES) from `root` with source-specific options.

    `max_images_per_split=N` (any source; smoke runs on real data) loads and checks everything,
    then keeps at most N images of each split (`tfembed.data.subsample.cap_splits`).
    """
    if name not in SOURCES:
        raise ConfigError(f"unknown data source {name!r}; known: {', '.join(SOURCES)}")
    module = importlib.import_module(f"tfembed.data.sources.{name}")
    if root is None and not name.startswith("synthetic"):
        raise ConfigError(f"data source {name!r} needs a root directory (--data-dir / --root)")
    dataset = module.load(root, **options) if root is not None else module.load(**options)
    if max_images_per_split is not None:
        from tfembed.data.subsample import cap_splits
        dataset = cap_splits(dataset, max_images_per_split)
    return dataset


__all__ = ["Dataset", "SOURCES", "load"]
