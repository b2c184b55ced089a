"""Oxford-102 Flowers with Reed et al.'s cvpr2016_flowers text release.

root/ jpg/image_XXXXX.jpg, imagelabels.mat (`labels`, 1-based), setid.mat (trnid/valid/tstid,
1-based image numbers), [text_c10/class_XXXXX/image_XXXXX.txt], [allclasses|trainval|test|train|
valclasses.txt naming class_XXXXX]. Options: features (res101.mat layout, matched by file name),
texts_per_image (10), skip_missing, verify_images.
"""

import os

import numpy as np

from tfembed.data.dataset import Dataset
from tfembed.data.sources import _formats as F
from tfembed.errors import DataError

DEFAULTS = dict(features=None, texts_per_image=10, skip_missing=False, verify_images=False)
REED_SPLITS = {"trainval": "trainvalclasses.txt", "test": "testclasses.txt",
               "train": "trainclasses.txt", "val": "valclasses.txt"}
OFFICIAL = {"official_train": "trnid", "official_val": "valid", "official_test": "tstid"}


def load(root, **options):
    """Load Oxford-102 (+ Reed's descriptions and class splits) from `root`."""
    opt = F.check_options("flowers", options, DEFAULTS)
    root = os.path.abspath(F.need(root, "Oxford-102 directory"))
    skip, expected = opt["skip_missing"], opt["texts_per_image"]
    label_path = os.path.join(root, "imagelabels.mat")
    raw = F.load_mat(label_path, ["labels"], "image label file")["labels"]
    n_classes = int(np.max(raw)) if np.size(raw) else 0
    labels = F.mat_index(raw, label_path, "labels", n_classes)
    class_names = [f"class_{i + 1:05d}" for i in range(n_classes)]
    known = {n: i for i, n in enumerate(class_names)}
    image_ids = [f"image_{i + 1:05d}" for i in range(len(labels))]

    split_path = os.path.join(root, "setid.mat")
    setid = F.load_mat(split_path, list(OFFICIAL.values()), "split file")
    splits = {name: F.mat_index(setid[var], split_path, var, len(labels))
              for name, var in OFFICIAL.items()}
    F.class_split_files(root, {"all": "allclasses.txt"}, known)  # validates names only
    class_splits = F.class_split_files(root, REED_SPLITS, known)
    splits.update({name: F.rows_of(labels, c) for name, c in class_splits.items()})

    keep = [True] * len(labels)
    skipped = {"missing_text": 0, "wrong_text_count": 0}
    texts = [[] for _ in labels]
    if os.path.isdir(os.path.join(root, "text_c10")):
        for i, (ident, c) in enumerate(zip(image_ids, labels)):
            path = os.path.join(root, "text_c10", class_names[c], ident + ".txt")
            if not os.path.isfile(path):
                if not skip:
                    raise DataError("missing description file (text_c10/class_XXXXX/"
                                    "image_XXXXX.txt of the imagelabels.mat class)", path)
                skipped["missing_text"] += 1
                keep[i] = False
                continue
            texts[i] = [t for _, t in F.read_lines(path, "description file")]
            if expected and len(texts[i]) != expected:
                if not skip:
                    raise DataError(f"expected {expected} descriptions, got {len(texts[i])}", path)
                skipped["wrong_text_count"] += 1
                keep[i] = False

    features = None
    if opt["features"]:
        feats, files, _ = F.load_feature_mat(opt["features"])
        rows = F.match_rows([i + ".jpg" for i in image_ids], [F.tail(f, 1) for f in files],
                            opt["features"], skip)
        skipped["missing_feature"] = rows.count(None)
        features, have = F.gather(feats, rows)
        keep = [k and h for k, h in zip(keep, have)]

    paths = None
    if os.path.isdir(os.path.join(root, "jpg")):
        paths = [os.path.join(root, "jpg", i + ".jpg") for i in image_ids]
        found = F.existing(paths, label_path, None, skip)
        skipped["missing_image"] = found.count(False)
        keep = [k and f for k, f in zip(keep, found)]
        if opt["verify_images"]:
            F.verify_images([p for p, k in zip(paths, keep) if k])
    elif features is None:
        raise DataError("missing image directory jpg/ (and no features= given)",
                        os.path.join(root, "jpg"))
    meta = {"class_splits": {k: [int(c) for c in v] for k, v in class_splits.items()}} \
        if class_splits else {}
    ds = Dataset(name="flowers", image_ids=image_ids, labels=labels, class_names=class_names,
                 texts=texts, splits=splits, image_paths=paths, features=features, meta=meta)
    return F.keep_rows(ds, keep, skipped)
