"""Fixed-feature data sets for the train-step benchmark, written in the real publishers' formats
so the recipes load them unchanged: an xlsa17/GBU CUB-shaped set (200 classes, 312 attributes,
1280-d features like our EfficientNet-Lite0 ones) and a Karpathy-json caption set with 1280-d
features. Values are random (class-structured): only shapes matter for throughput, and the
benchmark then runs the same everywhere, with or without ../shared/data."""

import json
import os

import numpy as np

FEATURE_DIM = 1280


def _cell(strings):
    out = np.empty((len(strings), 1), dtype=object)
    for i, s in enumerate(strings):
        out[i, 0] = np.array([s])
    return out


def _loc(rows):
    return (np.asarray(rows, np.int64) + 1).reshape(-1, 1).astype(np.float64)  # 1-based


def write_gbu_cub(root, per_class=30, classes=200, attributes=312, unseen=50, seed=0):
    """root/CUB/att_splits.mat + root/res101.mat; returns the recipe arguments to load it."""
    import scipy.io

    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(classes), per_class)
    means = rng.normal(size=(classes, FEATURE_DIM)).astype(np.float32)
    feats = np.maximum(means[labels] + rng.normal(size=(len(labels), FEATURE_DIM)), 0)
    seen = labels < classes - unseen
    test_seen = seen & (np.arange(len(labels)) % per_class >= per_class * 4 // 5)
    trainval = seen & ~test_seen
    train_classes = (classes - unseen) * 2 // 3  # train/val: class-disjoint parts of trainval
    names = [f"{c + 1:03d}.Class_{c + 1}" for c in range(classes)]
    os.makedirs(os.path.join(root, "CUB"), exist_ok=True)
    scipy.io.savemat(os.path.join(root, "CUB", "att_splits.mat"), {
        "allclasses_names": _cell(names),
        "att": rng.random((attributes, classes)), "original_att": rng.random((attributes, classes)),
        "trainval_loc": _loc(np.flatnonzero(trainval)),
        "test_seen_loc": _loc(np.flatnonzero(test_seen)),
        "test_unseen_loc": _loc(np.flatnonzero(~seen)),
        "train_loc": _loc(np.flatnonzero(trainval & (labels < train_classes))),
        "val_loc": _loc(np.flatnonzero(trainval & (labels >= train_classes)))})
    features = os.path.join(root, "res101.mat")
    scipy.io.savemat(features, {
        "features": feats.T.astype(np.float32),
        "image_files": _cell([f"/images/{names[c]}/img_{i}.jpg" for i, c in enumerate(labels)]),
        "labels": (labels + 1).reshape(-1, 1).astype(np.float64)})
    return ["--data", "xlsa17", "--data-dir", root, "--set", "data.dataset=CUB",
            "--set", f"data.features={features}"]


def write_captions(root, images=3000, captions=5, vocabulary=1500, seed=0):
    """root/dataset_bench.json (Karpathy format) + root/features.npz; returns recipe arguments."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(vocabulary)]
    split = lambda i: "train" if i < images * 2 // 3 else ("val" if i < images * 5 // 6 else "test")
    records = []
    for i in range(images):
        sents = [" ".join(rng.choice(words, rng.integers(8, 15))) + " ." for _ in range(captions)]
        records.append({"filename": f"img_{i}.jpg", "split": split(i), "imgid": i,
                        "sentences": [{"raw": s, "tokens": s.split()[:-1]} for s in sents]})
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "dataset_bench.json"), "w") as f:
        json.dump({"images": records, "dataset": "bench"}, f)
    features = os.path.join(root, "features.npz")
    np.savez(features, image_files=np.array([r["filename"] for r in records]),
             features=np.abs(rng.normal(size=(images, FEATURE_DIM))).astype(np.float32))
    return ["--data", "karpathy_json", "--data-dir", root, "--set", f"data.features={features}"]
