"""Gordo & Larlus: "Beyond instance-level image retrieval: leveraging captions to learn a
global visual representation for semantic retrieval", CVPR 2017.

Relevance between two images = dot product of the l2-normalised tf-idf vectors of their
(Snowball-stemmed) captions. Triplets (query, one of its most relevant, one of its least
relevant) train a CNN + R-MAC visual embedding with L_v = 1/2 max(0, m - q.p + q.n) (V,V), or
jointly with a tf-idf text projection theta(t) = W^T t / ||W^T t|| and the cross losses L_t1,
L_t2 (V+T,V: image queries; V+T,V+T: image + text queries; the database is always the visual
embeddings alone, section 6). Reported: NDCG@R and PCC@R curves for R = 1..1,000 (capped below
the test-set size) and their areas over log R (ndcg_auc, pcc_auc, fractions; the paper's Table
2 prints x100), and agreement on the user-study triplets (section 3: two of the query's 50
nearest neighbours in the raw features; tf-idf judge, or human judgements with
relevance.human_triplets), beside random (chance), raw features and the tf-idf oracle.
Model: JointEmbedding(visual tower, tf-idf text tower over the TextPreprocessor's word counts,
dot on unit vectors, task "triplet"); the run saves its bundle, so `tfembed export RUN_DIR`
publishes embed_image / embed_text / retrieve / retrieve_image_text without the data set.

    python recipes/gordo2017.py                        # synthetic scenes, < 10 min
    python recipes/gordo2017.py --smoke                # seconds
    python recipes/gordo2017.py --data flickr8k --data-dir ../shared/data/flickr8k \
        --set data.features=../shared/data/flickr8k/lite0_features.npz --export
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from tfembed.experiments import semantic_retrieval  # noqa: E402
from tfembed.recipe import main  # noqa: E402


def get_config(data="synthetic_scenes", smoke=False):
    real = not data.startswith("synthetic")
    cfg = {
        "recipe": "gordo2017", "protocol": "tfidf_caption_relevance", "seed": 0, "plot": True,
        "evals": ["semantic_ranking", "user_study"],  # tfembed.evaluators
        "data": {"source": data, "root": None,
                 "splits": {"train": "train", "val": None, "test": "test"}},
        # The paper fine-tunes a ResNet-101 R-MAC; on flickr8k we use fixed precomputed
        # (already pooled) features + the learned projection, on synthetic scenes a small CNN
        # trained from scratch with R-MAC over its last conv map.
        # Scenes are downsized to 32x32 (a 4x4 final map, R-MAC levels 1-2) to fit the
        # no-argument run in 10 minutes on 2 CPU cores.
        "image": {"tower": "features" if real else "conv_small", "size": [32, 32],
                  "pooling": "rmac", "rmac_levels": 2, "options": {}},
        "relevance": {"min_df": 2 if real else 1, "top_k": 10, "bottom_fraction": 0.5,
                      "human_triplets": None},  # CSV query_id,a_id,b_id,choice when available
        # Unit vectors compared by dot product (= cosine), triplet ranking (Eq. 1).
        "model": {"scorer": "dot", "task": "triplet", "embed_dim": 256 if real else 128,
                  "margin": 0.1,
                  "settings": ["v_v", "vt_v", "vt_vt"], "primary": "vt_v"},
        "train": {"optimizer": "adam", "learning_rate": 1e-4 if real else 1e-3,
                  "batch_size": 64 if real else 32, "steps": 2000 if real else 600,
                  "checkpoint_every": 200, "log_every": 50, "eval_every": 0, "replicas": 2},
        # Fig. 2: R = 1..1,000 (log axis); user study: triplets from the 50 nearest neighbours.
        "eval": {"r_max": 1000, "r_points": 20, "study_triplets": 5000, "study_neighbours": 50},
        "export": {"top_k": 10},
    }
    if real:
        cfg["data"].update(only_with_images=True)
    if smoke:
        if not real:
            cfg["data"].update(num_train=48, num_val=0, num_test=24, captions_per_image=5)
        cfg["relevance"]["top_k"] = 3
        cfg["model"]["embed_dim"] = 16
        cfg["train"].update(steps=4, batch_size=8, checkpoint_every=2, log_every=2)
        cfg["plot"] = False
    return cfg


# Tuned on the val images (area under the NDCG curve), never the test images.
TUNE_OBJECTIVE = "ndcg_auc"


def search_space(hp, cfg):
    """Dotted config overrides for a keras_tuner trial; sizes scale the recipe's own."""
    dim = cfg["model"]["embed_dim"]
    return {
        "train.learning_rate": hp.Float("train.learning_rate", 1e-5, 3e-3, sampling="log"),
        "model.embed_dim": hp.Choice("model.embed_dim", [dim // 2, dim, dim * 2]),
        "model.margin": hp.Float("model.margin", 0.02, 0.5, sampling="log"),
    }


def validation_config(cfg):
    """Train on train, score on the val images (a smoke synthetic set without val gets one)."""
    data = cfg["data"]
    if data["source"] == "synthetic_scenes" and data.get("num_val") == 0:
        data["num_val"] = data.get("num_test", 24)
    data["splits"]["test"] = "val"
    # only the primary setting is scored: no visual-only model to train per trial
    cfg["model"]["settings"] = [cfg["model"]["primary"]]
    return cfg


def run(cfg, workdir, strategy, export=False):
    return semantic_retrieval.run(cfg, workdir, strategy, export)


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
