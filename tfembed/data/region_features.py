"""Region features: the whole image plus a fixed n x n grid of crops, each through a frozen CNN
(Karpathy & Fei-Fei 2015, Sec. 3.1.1 uses the whole image + the top 19 R-CNN detections; the
grid stands in for the detector, which we do not have).

File layout (one .npz, written atomically):

    image_files   [N] str      image file names (matched to a data set by the last path part)
    features      [N, R, D]    float32; region 0 = the whole image, then the grid row by row
    boxes         [R, 4]       float32 normalised (y0, x0, y1, x1), the same for every image
    grid          ()  int      n (R = 1 + n * n)
    crop_size     [2] int      (h, w) each region is resized to
    backbone      ()  str      image tower name (tfembed.towers.image), e.g. efficientnet_lite0
    weights       ()  str      weights file the backbone was loaded from
    weights_sha256 () str      its sha256 (a run checks its serving CNN against it)
    preprocessing ()  str      how pixels were made (below)

Preprocessing is that of ../shared/data/flickr8k/lite0_features.npz (shared/data README, sec. 4)
applied per region: PIL open, RGB, crop the box in the original image's pixels (edges rounded),
resize to crop_size with Image.BILINEAR (squash), `(x - 127) / 128` (inside the Lite0 tower),
global average of the last feature map. So region 0 equals lite0_features.npz's row.
"""

import hashlib
import os
import time
import uuid

import numpy as np

from tfembed.errors import ConfigError, DataError
from tfembed.towers.regions import grid_boxes

PREPROCESSING = ("PIL RGB; crop box (y0,x0,y1,x1)*(h,w) rounded to pixels in the original image; "
                 "resize to crop_size with Image.BILINEAR (no aspect kept); (x - 127) / 128; "
                 "CNN global average pooling")
KEYS = ("image_files", "features", "boxes", "grid", "crop_size", "backbone", "weights",
        "weights_sha256", "preprocessing")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def pixel_box(box, width, height):
    """Normalised (y0, x0, y1, x1) -> PIL (left, upper, right, lower), at least 1 pixel."""
    y0, x0, y1, x1 = (float(v) for v in box)
    left, upper = int(round(x0 * width)), int(round(y0 * height))
    right, lower = max(int(round(x1 * width)), left + 1), max(int(round(y1 * height)), upper + 1)
    return left, upper, right, lower


def region_pixels(path, boxes, crop_size):
    """uint8 [R, h, w, 3]: each box of the image at `path`, cropped and resized as documented."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            size = (int(crop_size[1]), int(crop_size[0]))
            return np.stack([np.asarray(im.crop(pixel_box(b, *im.size)).resize(
                size, Image.BILINEAR)) for b in boxes])
    except OSError as err:
        raise DataError(f"cannot read image: {err}", path) from None


def extract(paths, cnn, boxes, crop_size, images_per_batch=4, progress=True):
    """float32 [N, R, D]: `cnn` ([B, h, w, 3] pixels in [0, 255] -> [B, D]) over every region."""
    import keras
    import tensorflow as tf

    run = tf.function(lambda x: cnn(x, training=False), reduce_retracing=True)
    bar = keras.utils.Progbar(len(paths), unit_name="image") if progress else None
    out, r = [], len(boxes)
    for i in range(0, len(paths), images_per_batch):
        chunk = paths[i:i + images_per_batch]
        pixels = np.concatenate([region_pixels(p, boxes, crop_size) for p in chunk])
        feats = np.asarray(run(tf.constant(pixels, tf.float32)))
        out.append(feats.reshape(len(chunk), r, -1))
        if bar is not None:
            bar.add(len(chunk))
    return np.concatenate(out).astype(np.float32)


def save(path, image_files, features, boxes, grid, crop_size, backbone, weights):
    """Write the layout above to `path` (a temporary file, then a rename)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.{uuid.uuid4().hex[:8]}.tmp.npz"
    try:
        np.savez(tmp, image_files=np.asarray([os.path.basename(f) for f in image_files]),
                 features=np.asarray(features, np.float32), boxes=np.asarray(boxes, np.float32),
                 grid=np.int64(grid), crop_size=np.asarray(crop_size, np.int64),
                 backbone=np.str_(backbone),
                 weights=np.str_(os.path.abspath(weights) if weights else ""),
                 weights_sha256=np.str_(sha256(weights) if weights else ""),
                 preprocessing=np.str_(PREPROCESSING))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def load(path):
    """The file as a dict (KEYS), checked: shapes agree and region 0 is the whole image."""
    if not path or not os.path.isfile(path):
        raise ConfigError(f"data.region_features: no such file {path!r} (make it with "
                          f"`tfembed data regions --out FILE`)")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in KEYS if k not in z.files]
            if missing:
                raise DataError(f"region feature file lacks {', '.join(missing)}; has "
                                f"{', '.join(z.files)}", path)
            out = {k: z[k] for k in KEYS}
    except (OSError, ValueError) as err:
        raise DataError(f"cannot read region feature file: {err}", path) from None
    out["image_files"] = [str(f) for f in out["image_files"]]
    out["features"] = out["features"].astype(np.float32)
    for key in ("backbone", "weights", "weights_sha256", "preprocessing"):
        out[key] = str(out[key])
    out["grid"], out["crop_size"] = int(out["grid"]), [int(s) for s in out["crop_size"]]
    n, r = len(out["image_files"]), len(out["boxes"])
    if out["features"].ndim != 3 or out["features"].shape[:2] != (n, r):
        raise DataError(f"features must be [N={n} image_files, R={r} boxes, D], got "
                        f"{out['features'].shape}", path)
    if not np.allclose(out["boxes"][0], [0, 0, 1, 1]):
        raise DataError(f"region 0 must be the whole image [0, 0, 1, 1], got "
                        f"{out['boxes'][0]}", path)
    return out


def rows_for(regions, image_ids, path):
    """Row of each image id in the file; ConfigError naming the file and a missing image."""
    index = {os.path.basename(f): i for i, f in enumerate(regions["image_files"])}
    rows = [index.get(os.path.basename(str(i))) for i in image_ids]
    missing = [i for i, r in zip(image_ids, rows) if r is None]
    if missing:
        raise ConfigError(f"data.region_features={path}: no regions for image {missing[0]!r} "
                          f"({len(missing)} of the data set's {len(image_ids)} images are missing; "
                          f"extract them with `tfembed data regions` over this data set)")
    return np.asarray(rows, np.int64)


def load_for(path, image_ids):
    """(the file, its row of each image id): `load` + `rows_for`."""
    regions = load(path)
    return regions, rows_for(regions, image_ids, path)


def extract_dataset(dataset, out, grid=3, crop_size=(224, 224), backbone="efficientnet_lite0",
                    weights=None, images_per_batch=4):
    """Extract every image of `dataset` (image_paths) into `out`; prints one line per stage."""
    from tfembed.towers.image import build_image_tower

    if dataset.image_paths is None:
        raise ConfigError(f"data set {dataset.name!r} has no image files to cut regions from")
    if weights and not os.path.isfile(weights):
        raise ConfigError(f"--weights: no such file {weights!r}")
    boxes = grid_boxes(grid)
    start = time.time()
    cnn = build_image_tower(backbone, (*crop_size, 3), **({"weights": weights} if weights else {}))
    print(f"[regions] {backbone} built ({'weights ' + weights if weights else 'random init'}) "
          f"in {time.time() - start:.1f} s", flush=True)
    start = time.time()
    feats = extract(dataset.image_paths, cnn, boxes, crop_size, images_per_batch)
    print(f"[regions] {len(feats)} images x {len(boxes)} regions -> {feats.shape} in "
          f"{time.time() - start:.1f} s", flush=True)
    start = time.time()
    save(out, dataset.image_paths, feats, boxes, grid, crop_size, backbone, weights)
    print(f"[regions] wrote {out} in {time.time() - start:.1f} s", flush=True)
    return out
