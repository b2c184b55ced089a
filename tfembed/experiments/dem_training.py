"""Training a semantic -> visual model under the shared Trainer, with the GBU selection
protocol: weight decay and the number of epochs are chosen on the class-disjoint train/val
split (early stopping on val per-class top-1), then the model is retrained on trainval for
the same number of epochs. Test classes are never looked at."""

import json
import os

import numpy as np
import tensorflow as tf

from tfembed.experiments import common
from tfembed.experiments.gbu_eval import class_top1
from tfembed.visual_space_model import VisualSpaceEmbeddingModel

AUTOTUNE = tf.data.AUTOTUNE


def index_plan(rows, steps, batch_size, seed):
    """`steps * batch_size` rows: consecutive random permutations of `rows` (epochs)."""
    rng = np.random.default_rng(seed)
    need = steps * batch_size
    return np.concatenate([rng.permutation(rows) for _ in range(-(-need // len(rows)))])[:need]


def make_dataset_fn(side, features, labels, plan, batch_size, seed):
    """dataset_fn(start_step) -> batches {feature, semantic: {name: ...}, label}."""
    feats = tf.constant(features)
    if side.class_level:
        semantic = {k: tf.constant(v[labels[plan]]) for k, v in side.tables.items()}
    else:  # one random description of each image
        counts = np.diff(side.offsets)[plan]
        pick = side.offsets[plan] + (np.random.default_rng(seed).random(len(plan)) * counts).astype(np.int64)
        semantic = {"ids": tf.constant(side.ids[pick])}

    def dataset_fn(start_step):
        begin = start_step * batch_size
        ds = tf.data.Dataset.from_tensor_slices(
            {"feature": tf.gather(feats, plan[begin:]), "label": labels[plan[begin:]],
             "semantic": {k: v[begin:] for k, v in semantic.items()}})
        return ds.batch(batch_size, drop_remainder=True).prefetch(AUTOTUNE)
    return dataset_fn


def score_fn(model, side, features, proto_rows, scorer="euclidean"):
    """NumPy scorer (rows, classes) -> scores for the GBU evaluation."""
    def scores(rows, classes):
        p = side.prototypes(model.encode_text, np.asarray(classes), proto_rows).astype(np.float64)
        x = features[rows].astype(np.float64)
        if scorer == "cosine":
            x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
            p = p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12)
            return x @ p.T
        return 2.0 * x @ p.T - (x * x).sum(1)[:, None] - (p * p).sum(1)[None, :]
    return scores


def train(cfg, side, features, labels, rows, steps, weight_decay, workdir, strategy,
          val_rows=None, visual_tower=None):
    """One Trainer run on `rows`; with `val_rows`, early stopping on val per-class top-1."""
    t = dict(cfg["train"], steps=int(steps))
    with strategy.scope():
        model = VisualSpaceEmbeddingModel(side.build_encoder(features.shape[1]), weight_decay,
                                          visual_tower)
    plan = index_plan(rows, t["steps"], t["batch_size"], cfg["seed"])
    dataset_fn = make_dataset_fn(side, features, labels, plan, t["batch_size"], cfg["seed"])
    eval_fn = None
    if val_rows is not None:
        eval_fn = lambda m: {"zsl_top1_per_class": class_top1(
            score_fn(m, side, features, val_rows), labels, val_rows)}
    timing = common.train({**cfg, "train": t}, model, strategy, workdir, dataset_fn, eval_fn)
    return model, timing


def select_and_train(cfg, side, features, labels, splits, workdir, strategy, visual_tower=None):
    """Grid over weight decay with early stopping on val, then retrain on trainval."""
    train_rows, val_rows = splits["train"], splits["val"]
    trials = []
    for wd in cfg["model"]["weight_decay_grid"]:
        trial_dir = os.path.join(workdir, f"select_wd{wd:g}")
        record = os.path.join(trial_dir, "selection.json")
        if os.path.exists(record):  # a finished trial of an earlier (resumed) run
            with open(record) as f:
                trials.append(json.load(f))
            continue
        _, timing = train(cfg, side, features, labels, train_rows, cfg["train"]["steps"], wd,
                          trial_dir, strategy, val_rows)
        best = max(timing["eval_history"], key=lambda h: h["zsl_top1_per_class"])
        trials.append({"weight_decay": wd, "best_step": timing["best_step"],
                       "val_zsl_top1_per_class": best["zsl_top1_per_class"],
                       "train_seconds": timing["train_seconds"]})
        with open(record, "w") as f:
            json.dump(trials[-1], f)
    chosen = max(trials, key=lambda r: r["val_zsl_top1_per_class"])
    epochs = chosen["best_step"] * cfg["train"]["batch_size"] / len(train_rows)
    steps = max(1, int(round(epochs * len(splits["trainval"]) / cfg["train"]["batch_size"])))
    model, timing = train(cfg, side, features, labels, splits["trainval"], steps,
                          chosen["weight_decay"], os.path.join(workdir, "trainval"), strategy,
                          visual_tower=visual_tower)
    timing.update(selection=trials, weight_decay=chosen["weight_decay"], epochs=round(epochs, 3))
    return model, timing
