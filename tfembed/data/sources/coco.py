"""MS-COCO captions: root/annotations/captions_{train,val}<year>.json, images root/<split><year>/.

Each file is one split ("train", "val"; meta["split_files"] names the file). `images` [{id,
file_name}] and `annotations` [{image_id, caption}] are checked record by record. image_ids are
the file names. Options: year (default: the one present), features (.npz by file name),
only_with_images, skip_missing, verify_images.
"""

import os
import re

from tfembed.data.sources import _formats as F
from tfembed.errors import ConfigError, DataError

DEFAULTS = dict(year=None, features=None, only_with_images=False, skip_missing=False,
                verify_images=False)
PATTERN = re.compile(r"captions_(train|val|test)(\d{4})\.json$")


def _files(root, year):
    directory = F.need(os.path.join(root, "annotations"), "annotations directory")
    found = {}
    for name in sorted(os.listdir(directory)):
        m = PATTERN.match(name)
        if m:
            found.setdefault(m.group(2), {})[m.group(1)] = os.path.join(directory, name)
    if year is not None:
        if str(year) not in found:
            raise DataError(f"no captions_*{year}.json (found years: {', '.join(found) or 'none'})",
                            directory)
        return str(year), found[str(year)]
    if len(found) != 1:
        if not found:
            raise DataError("expected captions_{train,val}<year>.json", directory)
        raise ConfigError(f"coco: several caption years in {directory} ({', '.join(found)}); "
                          "pass year=2014 or year=2017")
    return next(iter(found.items()))


def load(root, **options):
    """Load COCO caption annotations (and image files / features)."""
    opt = F.check_options("coco", options, DEFAULTS)
    root = os.path.abspath(F.need(root, "COCO directory"))
    year, files = _files(root, opt["year"])
    ids, texts, where, splits, paths, listed, sources = [], [], [], {}, [], set(), []
    for split, path in sorted(files.items()):
        data = F.read_json(path, "COCO caption file")
        if not isinstance(data, dict) or not isinstance(data.get("images"), list) \
                or not isinstance(data.get("annotations"), list):
            raise DataError("expected an object with 'images' and 'annotations' lists", path)
        row_of, first = {}, len(ids)
        for n, image in enumerate(data["images"]):
            ident, file_name = F.record(image, ["id", "file_name"], path, f"images[{n}]")
            if ident in row_of or file_name in listed:
                raise DataError(f"image id {ident} / {file_name} listed twice", path,
                                f"images[{n}]")
            row_of[ident] = len(ids)
            listed.add(file_name)
            ids.append(file_name)
            texts.append([])
            where.append(f"images[{n}]")
            sources.append(path)
            paths.append(os.path.join(root, f"{split}{year}", file_name))
        for n, ann in enumerate(data["annotations"]):
            ident, caption = F.record(ann, ["image_id", "caption"], path, f"annotations[{n}]")
            if ident not in row_of:
                raise DataError(f"image_id {ident} is not in this file's images", path,
                                f"annotations[{n}]")
            if not isinstance(caption, str):
                raise DataError("expected the caption to be a string", path, f"annotations[{n}]")
            texts[row_of[ident]].append(caption)
        splits[split] = list(range(first, len(ids)))
    image_dirs = [os.path.join(root, f"{s}{year}") for s in files]
    if not any(os.path.isdir(d) for d in image_dirs):
        paths = None  # captions only (or features)
    ds = F.caption_dataset(f"coco{year}", ids, texts, sources, where, splits, paths, opt)
    ds.meta["split_files"] = {s: os.path.basename(p) for s, p in files.items()}
    return ds
