"""Flickr8k as released: Flickr8k.token.txt and Flickr_8k.{train,dev,test}Images.txt.

Images from root/images/ or root/Flicker8k_Dataset/ when present. Options: features (.npz with
image_files and features), only_with_images (keep only images with a feature row, or with a file
when no features are given, and count the rest in meta["skipped"]["no_image"]), captions_per_image
(5; 0 disables the check), skip_missing (drop images whose caption count is wrong), verify_images,
region_features (an .npz of `tfembed data regions`: the image side reads it, see
tfembed.experiments.image_input; `features` is then not read, and only_with_images keeps the
images that have a file).
"""

import os

from tfembed.data.sources import _formats as F
from tfembed.errors import DataError

DEFAULTS = dict(features=None, only_with_images=False, captions_per_image=5, skip_missing=False,
                verify_images=False, region_features=None)
SPLIT_FILES = {"train": "Flickr_8k.trainImages.txt", "val": "Flickr_8k.devImages.txt",
               "test": "Flickr_8k.testImages.txt"}


def read_split_list(path, known, what="split list"):
    """One image file name per line -> sorted rows; unknown or repeated names name the line."""
    rows, seen = [], set()
    for number, text in F.read_lines(path, what):
        name = text.strip()
        if name not in known:
            raise DataError(f"image {name!r} has no captions in the caption file", path, number)
        if name in seen:
            raise DataError(f"image {name!r} listed twice", path, number)
        seen.add(name)
        rows.append(known[name])
    return sorted(rows)


def build(name, root, token_path, image_dirs, read_splits, opt):
    """A caption-file data set (shared with flickr30k): see `_formats.caption_dataset`.

    `read_splits(known)` maps {image id: row} to {split: rows}, before any row is dropped.
    """
    ids, by_id, first = F.read_captions(token_path)
    image_dir = next((os.path.join(root, d) for d in image_dirs
                      if os.path.isdir(os.path.join(root, d))), None)
    return F.caption_dataset(
        name, ids, [by_id[i] for i in ids], token_path, [first[i] for i in ids],
        read_splits({i: r for r, i in enumerate(ids)}),
        image_dir and [os.path.join(image_dir, i) for i in ids], opt)


def load(root, **options):
    """Load Flickr8k captions, official splits and (optionally) images / features."""
    opt = F.check_options("flickr8k", options, DEFAULTS)
    root = os.path.abspath(F.need(root, "Flickr8k directory"))
    if opt["region_features"]:  # regions replace whole-image features; pixels stay for figures
        opt["features"] = None

    def read_splits(known):
        return {s: read_split_list(os.path.join(root, f), known) for s, f in SPLIT_FILES.items()}

    return build("flickr8k", root, os.path.join(root, "Flickr8k.token.txt"),
                 ("images", "Flicker8k_Dataset"), read_splits, opt)
