"""Training DEM (Zhang, Xiang, Gong 2017) as a `JointEmbedding` under the shared Trainer, with
the GBU selection protocol: weight decay and the number of epochs are chosen on the
class-disjoint train/val split (early stopping on val per-class top-1), then the model is
retrained on trainval for the same number of epochs. Test classes are never looked at.

DEM = JointEmbedding(identity over the visual features, semantic -> visual MLP,
scorer "neg_sq_distance", task "least_squares"): Eq. 1's mean ||phi(v) - f(s)||^2 over the
pairs of a batch, plus lambda * sum ||W||^2 as the text tower's kernel regularisers.
"""

import json
import os

import numpy as np
import tensorflow as tf

from tfembed.evaluators import gbu
from tfembed.experiments import common
from tfembed.models import JointEmbedding
from tfembed.towers.image import features_tower

AUTOTUNE = tf.data.AUTOTUNE
SCORER, TASK = "neg_sq_distance", "least_squares"


def index_plan(rows, steps, batch_size, seed):
    """`steps * batch_size` rows: consecutive random permutations of `rows` (epochs)."""
    rng = np.random.default_rng(seed)
    need = steps * batch_size
    return np.concatenate([rng.permutation(rows) for _ in range(-(-need // len(rows)))])[:need]


def build_model(side, visual_dim, weight_decay, image_tower=None, scorer=SCORER, task=TASK):
    """DEM as a JointEmbedding; `image_tower` (a frozen pixels -> features model) replaces the
    identity for serving, so the exported image path is inside the model."""
    text_tower = side.build_encoder(visual_dim, weight_decay)
    return JointEmbedding(image_tower or features_tower(visual_dim), text_tower, scorer=scorer,
                          task=task)


def serving_model(model, visual_tower=None):
    """The trained model with the frozen visual tower as its image tower (pixels in), or the
    model itself when the data set has precomputed features."""
    if visual_tower is None:
        return model
    visual_tower.trainable = False
    return JointEmbedding(visual_tower, model.text_tower, scorer=model.scorer_name,
                          task=model.task_name)


def make_dataset_fn(side, features, labels, plan, batch_size, seed):
    """dataset_fn(start_step) -> batches {"image": features, "text": the semantic side's inputs,
    "image_id": position in the plan}. The ids are unique, so each image's one positive is
    its own semantic input (a row drawn twice in one batch is still two pairs)."""
    feats = tf.constant(features)
    if side.class_level:
        text = side.inputs(labels[plan])
    else:  # one random description of each image
        counts = np.diff(side.offsets)[plan]
        pick = side.offsets[plan] + (np.random.default_rng(seed).random(len(plan)) * counts).astype(np.int64)
        text = side.inputs(pick)
    ids = np.arange(len(plan), dtype=np.int64)

    def dataset_fn(start_step):
        begin = start_step * batch_size
        sliced = ({k: v[begin:] for k, v in text.items()} if isinstance(text, dict)
                  else text[begin:])
        ds = tf.data.Dataset.from_tensor_slices(
            {"image": tf.gather(feats, plan[begin:]), "text": sliced, "image_id": ids[begin:]})
        return ds.batch(batch_size, drop_remainder=True).prefetch(AUTOTUNE)
    return dataset_fn


def embed(model, side, features, labels, proto_rows, num_classes):
    """(image embeddings [N, D] by row, class prototypes [num_classes, D] by class id): the
    mapped semantics of every class (descriptions: mean over the class's images in
    `proto_rows`; classes without any are zeros and never scored)."""
    images = np.asarray(model.encode_image(features))
    if side.class_level:
        return images, side.prototypes(model.encode_text, np.arange(num_classes), proto_rows)
    present = np.unique(labels[proto_rows])
    protos = np.zeros((num_classes, images.shape[1]), np.float32)
    protos[present] = side.prototypes(model.encode_text, present, proto_rows)
    return images, protos


def val_top1(model, side, features, labels, rows):
    """Per-class top-1 of `rows` among their classes, prototypes from `rows` themselves."""
    images, protos = embed(model, side, features, labels, rows, int(labels.max()) + 1)
    return gbu.class_top1(gbu.embedding_score_fn(model.score, images, protos), labels, rows)


def train(cfg, side, features, labels, rows, steps, weight_decay, workdir, strategy,
          val_rows=None):
    """One Trainer run on `rows`; with `val_rows`, early stopping on val per-class top-1."""
    t = dict(cfg["train"], steps=int(steps))
    with strategy.scope():
        model = build_model(side, features.shape[1], weight_decay,
                            scorer=cfg["model"]["scorer"], task=cfg["model"]["task"])
    plan = index_plan(rows, t["steps"], t["batch_size"], cfg["seed"])
    dataset_fn = make_dataset_fn(side, features, labels, plan, t["batch_size"], cfg["seed"])
    eval_fn = None
    if val_rows is not None:
        eval_fn = lambda m: {"zsl_top1_per_class": val_top1(m, side, features, labels, val_rows)}
    timing = common.train({**cfg, "train": t}, model, strategy, workdir, dataset_fn, eval_fn)
    return model, timing


def select_and_train(cfg, side, features, labels, splits, workdir, strategy):
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
                          chosen["weight_decay"], os.path.join(workdir, "trainval"), strategy)
    timing.update(selection=trials, weight_decay=chosen["weight_decay"], epochs=round(epochs, 3))
    return model, timing
