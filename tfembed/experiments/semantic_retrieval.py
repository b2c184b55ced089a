"""Semantic retrieval with caption tf-idf relevance (Gordo & Larlus 2017): triplets sampled
by caption similarity train a visual embedding (V,V) or a joint visual + tf-idf text one
(V+T,V), queried by image or by image + text (V+T,V+T) against a database of visual embeddings
only; every setting is scored with NDCG@R and PCC@R against the tf-idf similarity of the test
images and with the paper's user-study triplets, beside random, raw features and the tf-idf
oracle. Models are JointEmbedding + the `triplet` task (semantic_retrieval_parts); metrics are
tfembed.evaluators.semantic_ranking; the run ends with an exportable bundle (run_bundle)."""

import collections
import json
import os

import numpy as np
import tensorflow as tf

from tfembed.data import pipeline, relevance
from tfembed.errors import ConfigError
from tfembed.evaluators.semantic_ranking import (  # noqa: F401  (imported from here by others)
    EVAL_DEFAULTS, flatten_with_chance, protocol_notes, random_embedding, score_embeddings,
    similarity_matrix, study_triplets)
from tfembed import evaluators
from tfembed.evaluators import semantic_ranking
from tfembed.experiments import common
from tfembed.experiments import semantic_retrieval_parts as parts
from tfembed.export import run_bundle
from tfembed.export import signatures as sig
from tfembed.training.strategy import is_chief

SETTINGS = {"v_v": 0.0, "vt_v": 1.0, "vt_vt": 1.0}  # setting -> text weight of its model

# vectors: the oracle's tf-idf of every image (relevance and triplet sampling).
Data = collections.namedtuple("Data", "dataset text vectors load_image image_kind")


def prepare(cfg):
    """Data set, text side fitted on the training captions, tf-idf of every image, images."""
    dataset = common.load_dataset(cfg["data"])
    train = dataset.splits[cfg["data"]["splits"]["train"]]
    text = parts.fit_text(dataset, train, cfg["relevance"]["min_df"])
    vectors = text.tfidf.vectors(dataset.texts)
    size = None if cfg["image"]["tower"] == "features" else tuple(cfg["image"]["size"])
    load_image, image_kind = pipeline.image_source(dataset, np.arange(dataset.num_images), size)
    return Data(dataset, text, vectors, load_image, image_kind)


def raw_embedding(dataset, rows):
    """The input itself (features, or 16x16 centred pixels), l2-normalised: the untrained
    cosine baseline."""
    if dataset.features is not None:
        x = dataset.features[rows].astype(np.float64)
    else:
        x = tf.image.resize(dataset.images[rows].astype(np.float32), (16, 16)).numpy()
        x = x.reshape(len(rows), -1) - x.reshape(len(rows), -1).mean(1, keepdims=True)
    return semantic_ranking.unit(x)


def build_model(cfg, data, text_weight):
    m = cfg["model"]
    return parts.build_model(cfg["image"], data.image_kind, data.text, m["embed_dim"],
                             m["margin"], text_weight, m["scorer"], m["task"])


def train_model(cfg, name, text_weight, data, workdir, strategy):
    with strategy.scope():
        model = build_model(cfg, data, text_weight)
    train = data.dataset.splits[cfg["data"]["splits"]["train"]]
    r = cfg["relevance"]
    n_trip = cfg["train"]["steps"] * cfg["train"]["batch_size"]
    bottom_k = min(len(train) - 1 - r["top_k"], max(1, int(r["bottom_fraction"] * len(train))))
    local = relevance.sample_triplets(relevance.similarity(data.vectors[train]), n_trip,
                                      r["top_k"], bottom_k, cfg["seed"])
    dataset_fn = parts.triplet_dataset_fn(data.load_image, data.text.image_texts,
                                          data.text.side.preprocessor, train[local],
                                          cfg["train"]["batch_size"])
    timing = common.train(cfg, model, strategy, os.path.join(workdir, name), dataset_fn)
    return model, timing


def embed_images(model, load_image, rows):
    return np.concatenate([np.asarray(model.encode_image(x))
                           for x in pipeline.image_batches(load_image, rows)])


def save_bundle(cfg, workdir, model, data, rows):
    """RUN_DIR/exportable/ (run_bundle): the evaluated model with its tf-idf text tower, the
    text preprocessor and the phi(I) gallery of the test images. Besides embed_* and retrieve,
    the export answers retrieve_image_text: the paper's (V+T) query, an image plus text such
    as "wedding" (model_export builds it)."""
    if not is_chief():
        return None
    gallery = embed_images(model, data.load_image, rows)
    return run_bundle.save(
        workdir, model, data.image_kind, data.text.side.preprocessor,
        gallery=([data.dataset.image_ids[r] for r in rows], np.asarray(gallery, np.float32)),
        k=cfg["export"]["top_k"], model_name=cfg["recipe"],
        example_texts=data.dataset.texts[rows[0]][:2], endpoints=[sig.RETRIEVE_IMAGE_TEXT])


def setting_embeddings(model, setting, data, rows):
    """(query, database) embeddings of one setting over the test `rows`.

    Gordo & Larlus 2017, section 6, "Methods and baselines": the second element of the tuple
    says whether one queries with the image's visual embedding (V) or with the image and its
    text (V+T, l2(phi(I) + theta(t)) with t the tf-idf of its captions, through the text
    preprocessor as served); "In all cases, the database consists only of images represented
    with visual embeddings, with no textual information."
    """
    phi = embed_images(model, data.load_image, rows)
    if setting == "vt_vt":
        theta = parts.encode_texts(model, data.text.side.preprocessor, data.text.image_texts[rows])
        return semantic_ranking.unit(phi + theta), phi
    return phi, phi


def baseline_embeddings(dataset, rows, seed):
    return {"random": random_embedding(len(rows), seed=seed),
            "raw_features": raw_embedding(dataset, rows)}


def evaluate(cfg, data, models, rows):
    """Ranking metrics of every setting's embedding, the two baselines and the tf-idf oracle,
    by name, and the curves."""
    embeddings = baseline_embeddings(data.dataset, rows, cfg["seed"])
    for setting, model in models.items():
        embeddings[setting] = setting_embeddings(model, setting, data, rows)
    judged = cfg["relevance"].get("human_triplets")
    human = None
    if judged:  # real human judgements over the test images, scored like the tf-idf judge's
        human = relevance.load_triplet_judgements(
            judged, {data.dataset.image_ids[r]: i for i, r in enumerate(rows)})
    return score_embeddings(embeddings, relevance.similarity(data.vectors[rows]), cfg["seed"],
                            cfg.get("eval"), human,
                            study="user_study" in cfg.get("evals", ["user_study"]))


def _train_settings(cfg, data, workdir, strategy):
    models, timing, trained = {}, {}, {}
    for setting in cfg["model"]["settings"]:
        weight = SETTINGS[setting]
        name = "visual" if weight == 0 else "joint"
        if weight not in trained:
            trained[weight] = train_model(cfg, name, weight, data, workdir, strategy)
        models[setting], timing[name] = trained[weight]
    return models, timing


def run(cfg, workdir, strategy, export=False):
    settings, primary = cfg["model"]["settings"], cfg["model"]["primary"]
    if not set(settings) <= set(SETTINGS) or primary not in settings:
        raise ConfigError(f"model.settings must be among {sorted(SETTINGS)} and include "
                          f"model.primary; got {settings}, primary {primary!r}")
    evaluators.selected(cfg, "semantic_ranking", optional=("user_study",))
    common.save_config(cfg, workdir, __name__)
    data = prepare(cfg)
    dataset = data.dataset
    models, timing = _train_settings(cfg, data, workdir, strategy)
    rows = dataset.splits[cfg["data"]["splits"]["test"]]
    by_name, curves = evaluate(cfg, data, models, rows)
    metrics_, chance = flatten_with_chance(by_name, primary)
    notes = [f"primary setting: {primary}; test images: {len(rows)}; tf-idf terms: "
             f"{len(data.text.tfidf.terms)}"]
    notes += protocol_notes(curves, cfg.get("eval"), bool(cfg["relevance"].get("human_triplets")),
                            len(rows))
    # The study triplets with the tf-idf judge's answers, for human judges to re-answer
    # (then --set relevance.human_triplets=that file).
    path = os.path.join(workdir, "user_study_triplets.csv")
    baselines = baseline_embeddings(dataset, rows, cfg["seed"])
    triplets, choices = study_triplets(baselines, relevance.similarity(data.vectors[rows]),
                                       cfg["seed"], cfg.get("eval"))
    relevance.write_triplet_judgements(path, triplets, choices,
                                       [dataset.image_ids[r] for r in rows])
    notes.append(f"user-study triplets (tf-idf choices): {path}")
    with open(os.path.join(workdir, "curves.json"), "w") as f:
        json.dump(curves, f)
    results = common.finish(cfg, workdir, dataset, metrics_, chance, timing, notes)
    save_bundle(cfg, workdir, models[primary], data, rows)  # `tfembed export RUN_DIR`
    if export:
        results["export"] = run_bundle.export_run(workdir)
    if cfg["plot"]:  # last: a failing plot is a warning
        def plot():
            path = os.path.join(workdir, "ndcg_pcc_curves.png")
            parts.plot_curves(curves, path)
            return f"curves plot: {path}"
        common.run_plots(workdir, results, [("curves plot", plot)])
    return results
