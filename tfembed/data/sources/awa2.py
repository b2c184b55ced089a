"""Animals with Attributes 2 in its release layout.

root/ classes.txt ("1<TAB>antelope"), predicates.txt, predicate-matrix-{continuous,binary}.txt,
JPEGImages/<class>/*.jpg, [trainvalclasses|trainclasses|valclasses|testclasses.txt]. Class names may
be written with '+' (the release and xlsa17: "grizzly+bear") or spaces; both match.
Options: attributes ("continuous"/"binary"), class_split_dir (e.g. xlsa17/AWA2 for the proposed
split; default root), features (res101.mat layout, matched by <class>/<file>), skip_missing,
verify_images.
"""

import os

import numpy as np

from tfembed.data.dataset import Dataset
from tfembed.data.sources import _formats as F
from tfembed.errors import ConfigError, DataError

DEFAULTS = dict(attributes="continuous", class_split_dir=None, features=None, skip_missing=False,
                verify_images=False)
SPLIT_FILES = {"trainval": "trainvalclasses.txt", "train": "trainclasses.txt",
               "val": "valclasses.txt", "test": "testclasses.txt"}


def _key(name):
    return name.strip().replace("+", " ")


class _Names(dict):
    """Class index by name, '+' and ' ' treated alike."""

    def __contains__(self, name):
        return dict.__contains__(self, _key(name))

    def __getitem__(self, name):
        return dict.__getitem__(self, _key(name))


def _class_splits(directory, known):
    files = dict(SPLIT_FILES)
    if not os.path.isfile(os.path.join(directory, "trainclasses.txt")):  # xlsa17 naming
        files.update(train="trainclasses1.txt", val="valclasses1.txt")
    return F.class_split_files(directory, files, known)


def load(root, **options):
    """Load AwA2 (images as files, class attributes from the predicate matrix)."""
    opt = F.check_options("awa2", options, DEFAULTS)
    if opt["attributes"] not in ("continuous", "binary"):
        raise ConfigError("awa2: attributes must be 'continuous' or 'binary', "
                          f"got {opt['attributes']!r}")
    root = os.path.abspath(F.need(root, "AwA2 directory"))
    class_names, _ = F.read_id_table(os.path.join(root, "classes.txt"), "class list",
                                     "<class_id><TAB><class_name>", rest=True)
    known = _Names((_key(n), i) for i, n in enumerate(class_names))
    predicates, _ = F.read_id_table(os.path.join(root, "predicates.txt"), "predicate list",
                                    "<predicate_id><TAB><name>", rest=True)
    attributes = F.read_matrix(os.path.join(root, f"predicate-matrix-{opt['attributes']}.txt"),
                               "predicate matrix", len(class_names), len(predicates))
    class_splits = _class_splits(opt["class_split_dir"] or root, known)

    image_ids, labels, paths = [], [], None
    image_dir = os.path.join(root, "JPEGImages")
    if os.path.isdir(image_dir):
        folders = {}
        for folder in sorted(os.listdir(image_dir)):
            if not os.path.isdir(os.path.join(image_dir, folder)):
                continue
            if folder not in known:
                raise DataError(f"image folder {folder!r} is not a class of classes.txt",
                                os.path.join(image_dir, folder))
            folders[known[folder]] = folder
        for c, name in enumerate(class_names):
            if c not in folders:
                raise DataError(f"no image folder for class {name!r}",
                                os.path.join(image_dir, name))
            files = sorted(f for f in os.listdir(os.path.join(image_dir, folders[c]))
                           if f.lower().endswith((".jpg", ".jpeg", ".png")))
            image_ids += [f"{folders[c]}/{f}" for f in files]
            labels += [c] * len(files)
        paths = [os.path.join(image_dir, i) for i in image_ids]
        if opt["verify_images"]:
            F.verify_images(paths)

    features, keep, skipped = None, [True] * len(image_ids), {}
    if opt["features"]:
        feats, files, _ = F.load_feature_mat(opt["features"])
        if image_ids:  # match the listed images; '+'/' ' spelled alike
            rows = F.match_rows([_key(i) for i in image_ids], [_key(F.tail(f, 2)) for f in files],
                                opt["features"], opt["skip_missing"])
            skipped["missing_feature"] = rows.count(None)
            features, keep = F.gather(feats, rows)
        else:  # features only: classes from the folder in each image path
            image_ids = [F.tail(f, 2) for f in files]
            for i, ident in enumerate(image_ids):
                if ident.split("/")[0] not in known:
                    raise DataError(f"image_files[{i + 1}] {ident!r}: class folder not in "
                                    "classes.txt", opt["features"])
            labels = [known[i.split("/")[0]] for i in image_ids]
            features, keep = feats, [True] * len(image_ids)
    labels = np.asarray(labels, np.int64)
    splits = {name: F.rows_of(labels, c) for name, c in class_splits.items()}
    meta = {"class_splits": {k: [int(c) for c in v] for k, v in class_splits.items()}}
    ds = Dataset(name="awa2", image_ids=image_ids, labels=labels, class_names=class_names,
                 texts=[[] for _ in image_ids], splits=splits, image_paths=paths, features=features,
                 class_attributes=attributes, attribute_names=predicates, meta=meta)
    return F.keep_rows(ds, keep, skipped)
