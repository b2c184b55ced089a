"""Data sources (synthetic and real formats), one Dataset representation, tf.data pipelines.

Each source lives in `tfembed/data/sources/<name>.py` and defines
`load(root=None, **options) -> Dataset`. Sources are imported lazily so the core stays light.
"""

import importlib

from tfembed.data.dataset import Dataset
from tfembed.errors import ConfigError

SOURCES = ("synthetic_birds", "synthetic_scenes", "cub", "flowers", "xlsa17", "awa2",
           "flickr8k", "flickr30k", "karpathy_json", "coco", "visual_genome")


def load(name, root=None, **options):
    """Load data source `name` (see SOURCES) from `root` with source-specific options."""
    if name not in SOURCES:
        raise ConfigError(f"unknown data source {name!r}; known: {', '.join(SOURCES)}")
    module = importlib.import_module(f"tfembed.data.sources.{name}")
    if root is None and not name.startswith("synthetic"):
        raise ConfigError(f"data source {name!r} needs a root directory (--data-dir / --root)")
    return module.load(root, **options) if root is not None else module.load(**options)


__all__ = ["Dataset", "SOURCES", "load"]
