"""`synthetic_birds`: a deterministic fine-grained zero-shot data set the package draws itself.

Classes are combinations of visual attributes; unseen classes are new combinations of
attribute values that all occur among seen classes, so an unseen class can only be recognised
through its descriptions or attributes. Each image is rendered with per-image variation and
has descriptions generated from the attributes *visible in that image*.
"""

import numpy as np

from tfembed.data.dataset import Dataset
from tfembed.data.sources import _bird_render, _bird_text
from tfembed.data.sources._formats import check_options
from tfembed.errors import ConfigError

ATTRIBUTES = {
    "body_color": _bird_render.COLOR_NAMES,
    "wing_color": _bird_render.COLOR_NAMES,
    "crown_color": _bird_render.COLOR_NAMES,
    "beak": ("short", "hooked", "long"),
    "tail": ("short", "long", "forked"),
    "pattern": ("plain", "striped", "spotted"),
}
DEFAULTS = dict(num_classes=50, num_unseen=10, num_val=10, images_per_class=24,
                texts_per_image=10, image_size=64, test_seen_fraction=0.2,
                attribute_noise=0.05, seed=0)


def _class_combinations(rng, num_classes, num_unseen):
    """Distinct attribute combinations; unseen ones reuse only values seen in training."""
    names = list(ATTRIBUTES)
    combos, seen = [], set()
    while len(combos) < num_classes:
        combo = tuple(int(rng.integers(len(ATTRIBUTES[n]))) for n in names)
        if combo in seen:
            continue
        seen.add(combo)
        combos.append(combo)
    combos = np.array(combos)
    seen_rows = combos[: num_classes - num_unseen]
    for col in range(len(names)):  # every unseen value must occur in a seen class
        missing = set(combos[:, col]) - set(seen_rows[:, col])
        if missing:
            return None
    return combos


def _attribute_vector(values):
    parts = [np.eye(len(v), dtype=np.float32)[values[i]] for i, v in enumerate(ATTRIBUTES.values())]
    return np.concatenate(parts)


def load(root=None, **options):
    """Generate the data set (seconds, no files). Options: see DEFAULTS."""
    opt = check_options("synthetic_birds", options, DEFAULTS)
    n_cls, n_unseen, n_val = opt["num_classes"], opt["num_unseen"], opt["num_val"]
    if n_cls - n_unseen - n_val < 2 or n_unseen < 2:
        raise ConfigError("synthetic_birds: need >= 2 unseen and >= 2 training classes")
    rng = np.random.default_rng(opt["seed"])
    combos = None
    while combos is None:
        combos = _class_combinations(rng, n_cls, n_unseen)
    attr_names = list(ATTRIBUTES)
    class_names = [f"{i + 1:03d}." + "_".join(ATTRIBUTES[a][v] for a, v in zip(attr_names, c))
                   for i, c in enumerate(combos)]

    per = opt["images_per_class"]
    labels = np.repeat(np.arange(n_cls), per)
    images, texts, visible = [], [], []
    for label in labels:
        values = combos[label].copy()
        if rng.random() < opt["attribute_noise"]:  # occasional atypical individual
            col = int(rng.integers(len(attr_names)))
            values[col] = int(rng.integers(len(ATTRIBUTES[attr_names[col]])))
        attrs = {a: ATTRIBUTES[a][v] for a, v in zip(attr_names, values)}
        images.append(_bird_render.render(attrs, opt["image_size"], rng))
        texts.append([_bird_text.describe(attrs, rng) for _ in range(opt["texts_per_image"])])
        visible.append(_attribute_vector(values))
    visible = np.stack(visible)
    class_attributes = np.stack([visible[labels == c].mean(0) for c in range(n_cls)])

    seen = np.arange(n_cls - n_unseen)
    val_classes, train_classes = seen[-n_val:] if n_val else seen[:0], seen[: len(seen) - n_val]
    unseen = np.arange(n_cls - n_unseen, n_cls)
    test_seen = []
    for c in seen:  # a fixed fraction of every seen class is held out for GZSL
        rows = np.flatnonzero(labels == c)
        test_seen.extend(rng.choice(rows, int(round(per * opt["test_seen_fraction"])), replace=False))
    test_seen = np.array(sorted(test_seen), dtype=np.int64)
    in_seen = np.isin(labels, seen) & ~np.isin(np.arange(len(labels)), test_seen)
    trainval = np.flatnonzero(in_seen)
    splits = {
        "trainval": trainval,
        "train": trainval[np.isin(labels[trainval], train_classes)],
        "val": trainval[np.isin(labels[trainval], val_classes)],
        "test_seen": test_seen,
        "test_unseen": np.flatnonzero(np.isin(labels, unseen)),
    }
    splits["test"] = splits["test_unseen"]  # Reed's name for the zero-shot test split
    attribute_names = [f"{a}::{v}" for a in attr_names for v in ATTRIBUTES[a]]
    return Dataset(
        name="synthetic_birds",
        image_ids=[f"{class_names[l]}/img_{i:05d}" for i, l in enumerate(labels)],
        labels=labels, class_names=class_names, texts=texts, splits=splits,
        images=np.stack(images), class_attributes=class_attributes.astype(np.float32),
        attribute_names=attribute_names,
        meta={"options": opt, "class_splits": {
            "trainval": seen.tolist(), "train": train_classes.tolist(),
            "val": val_classes.tolist(), "test": unseen.tolist(), "test_unseen": unseen.tolist()}},
    )
