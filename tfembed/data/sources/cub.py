"""Caltech-UCSD Birds-200-2011 in its release layout, plus Reed et al.'s cvpr2016_cub text files.

root/ images.txt, classes.txt, image_class_labels.txt, [train_test_split.txt],
images/<class>/<file>, [attributes/class_attribute_labels_continuous.txt + attributes(.txt)],
and (in `reed_dir`, default root) [text_c10/<class>/<stem>.txt] and
[allclasses|trainval|test|train|valclasses.txt]. Options: features (res101.mat layout, matched
by <class>/<file>), reed_dir, texts_per_image (10; 0 disables), skip_missing, verify_images.
"""

import os

import numpy as np

from tfembed.data.dataset import Dataset
from tfembed.data.sources import _formats as F
from tfembed.errors import DataError

DEFAULTS = dict(features=None, reed_dir=None, texts_per_image=10, skip_missing=False,
                verify_images=False)
REED_SPLITS = {"trainval": "trainvalclasses.txt", "test": "testclasses.txt",
               "train": "trainclasses.txt", "val": "valclasses.txt"}


def _attribute_names(root):
    # The CUB tarball ships attributes.txt next to CUB_200_2011/; copies often move it inside.
    for rel in ("attributes/attributes.txt", "attributes.txt", "../attributes.txt"):
        path = os.path.join(root, rel)
        if os.path.isfile(path):
            return F.read_id_table(path, "attribute list", "<attribute_id> <name>")[0]
    return None


def _attributes(root, n_classes):
    path = os.path.join(root, "attributes", "class_attribute_labels_continuous.txt")
    if not os.path.isfile(path):
        return None, None
    names = _attribute_names(root)
    lines = F.read_lines(path, "class attribute matrix")
    width = len(names) if names else len(lines[0][1].split()) if lines else 0
    return F.read_matrix(path, "class attribute matrix", n_classes, width), names


def _texts(reed_dir, rel_paths, expected, skip):
    """Reed's text_c10/<class>/<stem>.txt per image; (texts, ok mask, skipped counts)."""
    base = os.path.join(reed_dir, "text_c10")
    if not os.path.isdir(base):
        return [[] for _ in rel_paths], [True] * len(rel_paths), {}
    texts, ok, skipped = [], [], {"missing_text": 0, "wrong_text_count": 0}
    for rel in rel_paths:
        path = os.path.join(base, os.path.splitext(rel)[0] + ".txt")
        if not os.path.isfile(path):
            if not skip:
                raise DataError("missing description file (text_c10/<class>/<image stem>.txt; "
                                "pass skip_missing=True to drop such images)", path)
            texts.append([])
            ok.append(False)
            skipped["missing_text"] += 1
            continue
        lines = [t for _, t in F.read_lines(path, "description file")]
        right = not expected or len(lines) == expected
        if not right and not skip:
            raise DataError(f"expected {expected} descriptions, got {len(lines)}", path)
        skipped["wrong_text_count"] += not right
        texts.append(lines)
        ok.append(right)
    return texts, ok, skipped


def load(root, **options):
    """Load CUB-200-2011 from `root` (see module docstring); returns a Dataset of image files."""
    opt = F.check_options("cub", options, DEFAULTS)
    root = os.path.abspath(F.need(root, "CUB_200_2011 directory"))
    skip = opt["skip_missing"]
    class_names, _ = F.read_id_table(os.path.join(root, "classes.txt"), "class list",
                                     "<class_id> <class_name>")
    known = {n: i for i, n in enumerate(class_names)}
    images_txt = os.path.join(root, "images.txt")
    rel_paths, lines = F.read_id_table(images_txt, "image list", "<image_id> <class>/<file>.jpg")
    labels_txt = os.path.join(root, "image_class_labels.txt")
    raw, label_lines = F.read_id_table(labels_txt, "image labels", "<image_id> <class_id>")
    if len(raw) != len(rel_paths):
        raise DataError(f"expected {len(rel_paths)} labels (one per images.txt line), "
                        f"got {len(raw)}", labels_txt)
    labels = np.zeros(len(raw), np.int64)
    for i, (value, number) in enumerate(zip(raw, label_lines)):
        c = F.parse_int(value, labels_txt, number, "<image_id> <class_id>")
        if not 1 <= c <= len(class_names):
            raise DataError(f"class id {c} not in 1..{len(class_names)}", labels_txt, number)
        if rel_paths[i].split("/")[0] != class_names[c - 1]:  # label must agree with the folder
            raise DataError(f"class {class_names[c - 1]} disagrees with images.txt folder of "
                            f"{rel_paths[i]}", labels_txt, number)
        labels[i] = c - 1

    splits, meta = {}, {}
    split_txt = os.path.join(root, "train_test_split.txt")
    if os.path.isfile(split_txt):
        flags, flag_lines = F.read_id_table(split_txt, "official split",
                                            "<image_id> <is_train 0|1>")
        if len(flags) != len(rel_paths) or set(flags) - {"0", "1"}:
            bad = next((n for f, n in zip(flags, flag_lines) if f not in ("0", "1")), None)
            raise DataError(f"expected one 0/1 flag per image ({len(rel_paths)})", split_txt, bad)
        splits["official_train"] = [i for i, f in enumerate(flags) if f == "1"]
        splits["official_test"] = [i for i, f in enumerate(flags) if f == "0"]
    reed_dir = opt["reed_dir"] or root
    F.class_split_files(reed_dir, {"all": "allclasses.txt"}, known)  # validates names only
    class_splits = F.class_split_files(reed_dir, REED_SPLITS, known)
    for name, classes in class_splits.items():
        splits[name] = F.rows_of(labels, classes)
    if class_splits:
        meta["class_splits"] = {k: [int(c) for c in v] for k, v in class_splits.items()}
    texts, keep, skipped = _texts(reed_dir, rel_paths, opt["texts_per_image"], skip)

    features = None
    if opt["features"]:
        feats, files, _ = F.load_feature_mat(opt["features"])  # its labels use xlsa17 order
        rows = F.match_rows(rel_paths, [F.tail(f, 2) for f in files], opt["features"], skip)
        skipped["missing_feature"] = rows.count(None)
        features, have = F.gather(feats, rows)
        keep = [k and h for k, h in zip(keep, have)]

    paths = None
    if os.path.isdir(os.path.join(root, "images")):
        paths = [os.path.join(root, "images", r) for r in rel_paths]
        found = F.existing(paths, images_txt, lines, skip)
        skipped["missing_image"] = found.count(False)
        keep = [k and f for k, f in zip(keep, found)]
        if opt["verify_images"]:
            F.verify_images([p for p, k in zip(paths, keep) if k])
    elif features is None:
        raise DataError("missing image directory images/ (and no features= given)",
                        os.path.join(root, "images"))
    attributes, attribute_names = _attributes(root, len(class_names))
    ds = Dataset(name="cub", image_ids=list(rel_paths), labels=labels, class_names=class_names,
                 texts=texts, splits=splits, image_paths=paths, features=features,
                 class_attributes=attributes, attribute_names=attribute_names, meta=meta)
    return F.keep_rows(ds, keep, skipped)
