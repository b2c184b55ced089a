"""Flickr30k: results_20130124.token ('<image>.jpg#<k><TAB><caption>') and flickr30k-images/.

The release has no split: every image is in split "all" unless `karpathy_json` (a
dataset_flickr30k.json whose images carry `split`) or `split_files` ({split: path of a list with
one image file name per line}) is given. Other options as flickr8k: features, only_with_images,
captions_per_image (5), skip_missing, verify_images.
"""

import os

import numpy as np

from tfembed.data.sources import _formats as F
from tfembed.data.sources.flickr8k import build, read_split_list
from tfembed.errors import ConfigError, DataError

DEFAULTS = dict(features=None, only_with_images=False, captions_per_image=5, skip_missing=False,
                verify_images=False, karpathy_json=None, split_files=None)


def _karpathy_splits(path, known):
    """Rows per split from a Karpathy json (images matched by filename)."""
    data = F.read_json(path, "Karpathy split file")
    images = data.get("images") if isinstance(data, dict) else None
    if not isinstance(images, list):
        raise DataError("expected an object with an 'images' list", path)
    splits = {}
    for n, image in enumerate(images):
        filename, split = F.record(image, ["filename", "split"], path, f"images[{n}]")
        if filename not in known:
            raise DataError(f"image {filename!r} has no captions in the caption file", path,
                            f"images[{n}]")
        splits.setdefault(split, []).append(known[filename])
    return splits


def load(root, **options):
    """Load Flickr30k captions (and images / features); see module docstring for splits."""
    opt = F.check_options("flickr30k", options, DEFAULTS)
    root = os.path.abspath(F.need(root, "Flickr30k directory"))
    split_files, karpathy = opt.pop("split_files") or {}, opt.pop("karpathy_json")
    if not isinstance(split_files, dict):
        raise ConfigError("flickr30k: split_files must be a dict {split: path}, "
                          f"got {split_files!r}")

    def read_splits(known):
        splits = _karpathy_splits(os.path.join(root, karpathy), known) if karpathy else {}
        for split, path in split_files.items():
            splits[split] = read_split_list(os.path.join(root, path), known)
        return splits or {"all": np.arange(len(known))}

    return build("flickr30k", root, os.path.join(root, "results_20130124.token"),
                 ("flickr30k-images",), read_splits, opt)
