"""Visual Genome region descriptions: image_data.json + region_descriptions.json.

image_data.json: [{image_id, url, width, height, ...}]; region_descriptions.json: [{id, regions:
[{region_id, image_id, phrase, x, y, width, height}]}]. texts[i] = the image's region phrases and
boxes[i] = their boxes as normalised (y0, x0, y1, x1) float32, in the same order. Boxes reaching
outside the image are clipped to [0, 1] and counted in meta["clipped_boxes"]. Image files:
root/<VG_100K or VG_100K_2>/<id>.jpg (the url's last two parts), else root/images/<id>.jpg.
Options: only_with_images, skip_missing (drop images without regions), verify_images.
"""

import os

import numpy as np

from tfembed.data.sources import _formats as F
from tfembed.errors import DataError

DEFAULTS = dict(only_with_images=False, skip_missing=False, verify_images=False)
REGION_KEYS = ["image_id", "phrase", "x", "y", "width", "height"]


def _images(path):
    """(ids, urls, sizes, records) from image_data.json; v1.0 files call the id `id`."""
    data = F.read_json(path, "image list")
    if not isinstance(data, list):
        raise DataError("expected a list of images", path)
    ids, urls, sizes, where = [], [], [], {}
    for n, image in enumerate(data):
        if isinstance(image, dict) and "image_id" not in image and "id" in image:
            image = {**image, "image_id": image["id"]}
        ident, url, w, h = F.record(image, ["image_id", "url", "width", "height"], path, f"[{n}]")
        if ident in where:
            raise DataError(f"image_id {ident} listed twice", path, f"[{n}]")
        if not (isinstance(w, (int, float)) and isinstance(h, (int, float)) and w > 0 and h > 0):
            raise DataError(f"expected positive width/height, got {w} x {h}", path, f"[{n}]")
        where[ident] = len(ids)
        ids.append(ident), urls.append(url), sizes.append((float(w), float(h)))
    return ids, urls, sizes, where


def load(root, **options):
    """Load Visual Genome region phrases and boxes (one class per image)."""
    opt = F.check_options("visual_genome", options, DEFAULTS)
    root = os.path.abspath(F.need(root, "Visual Genome directory"))
    image_path = os.path.join(root, "image_data.json")
    ids, urls, sizes, row_of = _images(image_path)
    region_path = os.path.join(root, "region_descriptions.json")
    data = F.read_json(region_path, "region descriptions")
    if not isinstance(data, list):
        raise DataError("expected a list of {id, regions}", region_path)
    texts = [[] for _ in ids]
    boxes = [[] for _ in ids]
    done, clipped = set(), 0
    for n, entry in enumerate(data):
        ident, regions = F.record(entry, ["id", "regions"], region_path, f"[{n}]")
        if ident not in row_of:
            raise DataError(f"image id {ident} is not in image_data.json", region_path, f"[{n}]")
        if ident in done:
            raise DataError(f"image id {ident} has two region entries", region_path, f"[{n}]")
        done.add(ident)
        r = row_of[ident]
        w, h = sizes[r]
        for k, region in enumerate(regions if isinstance(regions, list) else [None]):
            at = f"[{n}].regions[{k}]"
            image_id, phrase, x, y, bw, bh = F.record(region, REGION_KEYS, region_path, at)
            if image_id != ident:
                raise DataError(f"region of image {image_id} inside the entry of image {ident}",
                                region_path, at)
            numbers = all(isinstance(v, (int, float)) for v in (x, y, bw, bh))
            if not isinstance(phrase, str) or not numbers or bw < 0 or bh < 0:
                raise DataError("expected a string phrase and numeric x, y, width, height >= 0",
                                region_path, at)
            box = np.array([y / h, x / w, (y + bh) / h, (x + bw) / w], np.float32)
            clipped += bool(np.any((box < 0) | (box > 1)))
            texts[r].append(phrase)
            boxes[r].append(np.clip(box, 0.0, 1.0))
    boxes = [np.asarray(b, np.float32).reshape(-1, 4) for b in boxes]
    paths = None
    dirs = {os.path.dirname(F.tail(u, 2)) for u in urls} - {""}
    if any(os.path.isdir(os.path.join(root, d)) for d in dirs):
        paths = [os.path.join(root, F.tail(u, 2)) for u in urls]
    elif os.path.isdir(os.path.join(root, "images")):
        paths = [os.path.join(root, "images", F.tail(u, 1)) for u in urls]
    ds = F.caption_dataset("visual_genome", [str(i) for i in ids], texts, image_path,
                           [f"[{n}]" for n in range(len(ids))], {"all": range(len(ids))}, paths,
                           opt, boxes=boxes, noun="regions")
    ds.meta["clipped_boxes"] = clipped
    return ds
