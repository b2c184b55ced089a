"""Where the page gets the picture of each gallery id.

An export stores gallery ids and embeddings, not pictures. They come from, in this order:
  1. `--images DIR_OR_GLOB`: the files themselves (id = path below the directory, the rule of
     `tfembed embed`, so an index built from `tfembed embed` output matches);
  2. the run that made the export (`<run>/export/<version>` beside `<run>/config.json`): its
     recorded data configuration is loaded again, which gives the data set's own files (real
     Flickr8k JPEGs) or, for sources drawn in memory (synthetic birds / scenes, deterministic
     from the recorded seed), the very pixels the model was evaluated on.
An id with no picture is shown as text on the page.
"""

import glob
import io
import json
import os

from tfembed.errors import ConfigError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp")
MEDIA_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
               ".gif": "image/gif", ".bmp": "image/bmp", ".webp": "image/webp"}


class Pictures:
    """id -> (encoded bytes, media type). files: {id: path}; arrays: {id: uint8 [H, W, 3]}."""

    def __init__(self, files=None, arrays=None, origin="none", boxes=None):
        self.files, self.arrays, self.origin = dict(files or {}), dict(arrays or {}), origin
        self.boxes = dict(boxes or {})  # id -> the data set's region boxes (Karpathy)
        self._png = {}  # arrays are encoded once, on first request

    def __contains__(self, image_id):
        return image_id in self.files or image_id in self.arrays

    def get(self, image_id):
        if image_id in self.files:
            path = self.files[image_id]
            with open(path, "rb") as f:
                return f.read(), MEDIA_TYPES.get(os.path.splitext(path)[1].lower(),
                                                 "application/octet-stream")
        if image_id in self.arrays:
            if image_id not in self._png:
                from PIL import Image
                out = io.BytesIO()
                Image.fromarray(self.arrays[image_id]).save(out, format="PNG")
                self._png[image_id] = out.getvalue()
            return self._png[image_id], "image/png"
        return None


def list_images(spec):
    """DIR (searched recursively) or a GLOB -> (ids, paths), sorted by id."""
    if os.path.isdir(spec):
        base = spec
        paths = [os.path.join(root, name) for root, _, names in os.walk(spec) for name in names]
    else:
        magic = min((i for i, c in enumerate(spec) if c in "*?["), default=len(spec))
        base = os.path.dirname(spec[:magic]) or "."
        paths = glob.glob(spec, recursive=True)
    paths = [p for p in paths if os.path.isfile(p) and p.lower().endswith(IMAGE_EXTENSIONS)]
    if not paths:
        raise ConfigError(f"--images {spec}: no image files there (looked for "
                          f"{', '.join(IMAGE_EXTENSIONS)})")
    pairs = sorted((os.path.relpath(p, base).replace(os.sep, "/"), p) for p in paths)
    return [i for i, _ in pairs], [p for _, p in pairs]


def from_files(spec):
    ids, paths = list_images(spec)
    return Pictures(files=dict(zip(ids, paths)), origin=f"files under {spec}")


def run_config_path(version_dir):
    """<run>/config.json for an export at <run>/export/<version>, else None."""
    run_dir = os.path.dirname(os.path.dirname(os.path.abspath(version_dir)))
    path = os.path.join(run_dir, "config.json")
    return path if os.path.isfile(path) else None


def from_run(version_dir, ids):
    """The pictures of `ids` from the data set the export's run recorded (None: no run)."""
    path = run_config_path(version_dir)
    if path is None:
        return None
    from tfembed.config import upgrade
    from tfembed.experiments import common

    with open(path) as f:
        data_cfg = upgrade(json.load(f)["config"])["data"]  # older runs: keys moved since
    root = data_cfg.get("root")
    if root and not os.path.isabs(root) and not os.path.exists(root):
        # recorded relative to where the recipe ran: usually the checkout holding runs/<name>
        beside = os.path.join(os.path.dirname(path), "..", "..", root)
        data_cfg = {**data_cfg, "root": beside if os.path.exists(beside) else root}
    dataset = common.load_dataset(data_cfg)
    wanted = set(ids)
    rows = {image_id: row for row, image_id in enumerate(dataset.image_ids) if image_id in wanted}
    origin = f"the {data_cfg['source']} data recorded in {path}"
    boxes = {i: dataset.boxes[r] for i, r in rows.items()} if dataset.boxes else None
    if dataset.images is not None:
        return Pictures(arrays={i: dataset.images[r] for i, r in rows.items()}, origin=origin,
                        boxes=boxes)
    if dataset.image_paths:
        return Pictures(files={i: dataset.image_paths[r] for i, r in rows.items()
                               if os.path.isfile(dataset.image_paths[r])}, origin=origin,
                        boxes=boxes)
    return None
