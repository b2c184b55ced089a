"""Karpathy's split files: dataset_flickr8k.json / dataset_flickr30k.json / dataset_coco.json.

{"images": [{"filename", "filepath" (coco only), "split": train|val|test|restval,
"sentences": [{"raw", "tokens", ...}], "imgid", "cocoid"?}], "dataset": ...}. texts are the `raw`
sentences. Image paths: root/<filepath>/<filename>, else root/images/<filename>, when that
directory exists. Options: file (default: the single dataset_*.json in root), features (.npz by
file name), only_with_images, skip_missing, verify_images.
"""

import glob
import os

from tfembed.data.sources import _formats as F
from tfembed.errors import ConfigError, DataError

DEFAULTS = dict(file=None, features=None, only_with_images=False, skip_missing=False,
                verify_images=False)
SPLITS = ("train", "val", "test", "restval")


def _find_file(root, name):
    if name:
        return F.need(os.path.join(root, name), "Karpathy split file")
    found = sorted(glob.glob(os.path.join(root, "dataset_*.json")))
    if len(found) != 1:
        names = ", ".join(map(os.path.basename, found))
        raise ConfigError(f"karpathy_json: expected exactly one dataset_*.json in {root}, "
                          f"found {len(found)} ({names}); pass file=NAME")
    return found[0]


def load(root, **options):
    """Load a Karpathy-format json (captions, splits, image files)."""
    opt = F.check_options("karpathy_json", options, DEFAULTS)
    root = os.path.abspath(F.need(root, "Karpathy data directory"))
    path = _find_file(root, opt["file"])
    data = F.read_json(path, "Karpathy split file")
    images = data.get("images") if isinstance(data, dict) else None
    if not isinstance(images, list):
        raise DataError("expected a top-level object with an 'images' list", path)
    ids, texts, where, splits, rel = [], [], [], {}, []
    seen = set()
    for n, image in enumerate(images):
        at = f"images[{n}]"
        filename, split, sentences = F.record(image, ["filename", "split", "sentences"], path, at)
        if split not in SPLITS:
            raise DataError(f"split {split!r} is not one of {', '.join(SPLITS)}", path, at)
        if not isinstance(sentences, list):
            raise DataError("expected 'sentences' to be a list", path, at)
        key = os.path.join(image.get("filepath", ""), filename)
        if key in seen:
            raise DataError(f"image {key!r} listed twice", path, at)
        seen.add(key)
        raws = [F.record(s, ["raw"], path, f"{at}.sentences[{k}]")[0]
                for k, s in enumerate(sentences)]
        if not all(isinstance(r, str) for r in raws):
            raise DataError("expected every sentence 'raw' to be a string", path, at)
        splits.setdefault(split, []).append(len(ids))
        ids.append(filename)
        texts.append(raws)
        where.append(at)
        rel.append(key)

    # coco: root/<filepath>/<filename>; flickr (no filepath): root/images/<filename>.
    dirs = {os.path.dirname(k) for k in rel} - {""}
    paths = None
    if dirs and any(os.path.isdir(os.path.join(root, d)) for d in dirs):
        paths = [os.path.join(root, k) for k in rel]
    elif os.path.isdir(os.path.join(root, "images")):
        paths = [os.path.join(root, "images", i) for i in ids]
    name = f"karpathy/{data.get('dataset', os.path.basename(path))}"
    return F.caption_dataset(name, ids, texts, path, where, splits, paths, opt)
