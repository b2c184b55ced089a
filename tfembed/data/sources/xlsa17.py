"""xlsa17 / GBU "proposed split" files (Xian et al. 2018): root/<DS>/att_splits.mat (+ class lists).

Options: dataset (CUB, AWA1, AWA2, SUN, APY, FLO), features (a res101.mat-layout file whose
1-based `labels` index allclasses_names), attributes ("att" or "original_att"), image_root
(a directory holding <class>/<file> images named by the features' image_files), skip_missing.
Without features the Dataset has no images, only classes, attributes and class splits.
"""

import os

import numpy as np

from tfembed.data.dataset import Dataset
from tfembed.data.sources import _formats as F
from tfembed.errors import ConfigError, DataError

DATASETS = ("CUB", "AWA1", "AWA2", "SUN", "APY", "FLO")
DEFAULTS = dict(dataset="CUB", features=None, attributes="att", image_root=None, skip_missing=False)
LOCS = {"trainval": "trainval_loc", "test_seen": "test_seen_loc", "test_unseen": "test_unseen_loc",
        "train": "train_loc", "val": "val_loc"}
CLASS_FILES = {"trainval": "trainvalclasses.txt", "test": "testclasses.txt",
               "train": "trainclasses1.txt", "val": "valclasses1.txt"}


def _names(mat, path, n):
    if "allclasses_names" in mat:
        return [s.strip() for s in F.mat_strings(mat["allclasses_names"], path, "allclasses_names")]
    return [f"class_{i + 1:03d}" for i in range(n)]  # FLO ships no names


def _sentences(directory, known, n):
    """CUB sent_splits.mat: (class embeddings C x 1024 in `known` order by name, its locs)."""
    path = os.path.join(directory, "sent_splits.mat")
    if not os.path.isfile(path):
        return None, {}
    mat = F.load_mat(path, ["att", "allclasses_names"], "sentence-embedding file")
    names = _names(mat, path, n)
    att = np.asarray(mat["att"], np.float32)
    if att.shape[1] != len(names) or sorted(names) != sorted(known):
        raise DataError(f"expected the {n} classes of att_splits.mat, got {len(names)} "
                        f"(att {att.shape})", path)
    emb = np.zeros((n, att.shape[0]), np.float32)
    emb[[known[c] for c in names]] = att.T  # by name, never by position
    return emb, {k: v for k, v in mat.items() if k.endswith("_loc")}


def load(root, **options):
    """Load one xlsa17 dataset (see module docstring)."""
    opt = F.check_options("xlsa17", options, DEFAULTS)
    ds_name = str(opt["dataset"]).upper()
    if ds_name not in DATASETS:
        raise ConfigError(f"xlsa17: dataset must be one of {', '.join(DATASETS)}, "
                          f"got {opt['dataset']!r}")
    if opt["attributes"] not in ("att", "original_att"):
        raise ConfigError("xlsa17: attributes must be 'att' or 'original_att', "
                          f"got {opt['attributes']!r}")
    directory = os.path.join(os.path.abspath(root), ds_name)
    path = os.path.join(directory, "att_splits.mat")
    mat = F.load_mat(path, ["att", opt["attributes"], "trainval_loc", "test_seen_loc",
                            "test_unseen_loc"], "xlsa17 split file")
    att = np.asarray(mat[opt["attributes"]], np.float32)
    names = _names(mat, path, att.shape[1])
    if len(names) != att.shape[1]:
        raise DataError(f"att has {att.shape[1]} columns but allclasses_names {len(names)}", path)
    known = {n: i for i, n in enumerate(names)}
    sent, sent_locs = _sentences(directory, known, len(names)) if ds_name == "CUB" else (None, {})
    locs = {**{k: v for k, v in sent_locs.items() if k not in mat}, **mat}
    txt_splits = F.class_split_files(directory, CLASS_FILES, known)
    all_txt = os.path.join(directory, "allclasses.txt")
    if os.path.isfile(all_txt) and len(F.read_names(all_txt, "class list", known)) != len(names):
        raise DataError(f"expected all {len(names)} classes of att_splits.mat", all_txt)

    image_ids, labels, splits, features, paths = [], np.zeros(0, np.int64), {}, None, None
    skipped, keep = {}, []
    if opt["features"]:
        fpath = opt["features"]
        features, files, raw = F.load_feature_mat(fpath)
        labels = F.mat_index(raw, fpath, "labels", len(names))
        image_ids = [F.tail(f, 2) for f in files]
        for split, var in LOCS.items():
            if var in locs:
                splits[split] = F.mat_index(locs[var], path, var, len(files))
        class_splits = {"trainval": np.unique(labels[splits["trainval"]]),
                        "test": np.unique(labels[splits["test_unseen"]])}
        for split in ("train", "val"):
            if split in splits:
                class_splits[split] = np.unique(labels[splits[split]])
        for split, classes in class_splits.items():  # loc labels must agree with the class lists
            if split in txt_splits and list(txt_splits[split]) != list(classes):
                raise DataError(f"classes of {LOCS.get(split, 'test_unseen_loc')} (labels from "
                                f"{fpath}) differ from {CLASS_FILES[split]}", path)
        keep = [True] * len(files)
        if opt["image_root"]:
            paths = [os.path.join(os.path.abspath(opt["image_root"]), i) for i in image_ids]
            keep = F.existing(paths, fpath, None, opt["skip_missing"])
            skipped["missing_image"] = keep.count(False)
    else:
        class_splits = dict(txt_splits)
    if set(class_splits.get("trainval", [])) & set(class_splits.get("test", [])):
        raise DataError("trainval and test classes overlap; expected a zero-shot split", path)
    ds = Dataset(name=f"xlsa17/{ds_name}", image_ids=image_ids, labels=labels, class_names=names,
                 texts=[[] for _ in image_ids], splits=splits, features=features, image_paths=paths,
                 class_attributes=np.ascontiguousarray(att.T), attribute_names=None,
                 class_embeddings={} if sent is None else {"sent": sent},
                 meta={"dataset": ds_name, "class_splits": {
                     k: sorted(int(c) for c in v) for k, v in class_splits.items()}})
    return F.keep_rows(ds, keep, skipped)
