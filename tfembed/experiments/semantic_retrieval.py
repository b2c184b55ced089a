"""Semantic retrieval with caption tf-idf relevance (Gordo & Larlus 2017): triplets sampled
by caption similarity train a visual embedding (V,V) or a joint visual + tf-idf text one
(V+T,V), queried by image or by image + text (V+T,V+T); every setting is scored with NDCG@R
and PCC@R against the tf-idf similarity of the test images, beside measured baselines."""

import json
import os

import numpy as np
import tensorflow as tf

from tfembed import metrics
from tfembed.data import pipeline, relevance
from tfembed.errors import ConfigError
from tfembed.experiments import common
from tfembed.experiments import semantic_retrieval_parts as parts
from tfembed.experiments.semantic_retrieval_export import export_model

SETTINGS = {"v_v": 0.0, "vt_v": 1.0, "vt_vt": 1.0}  # setting -> text weight of its model


def prepare(cfg):
    """Data set, tf-idf fitted on the training captions, tf-idf of every image, image loader."""
    dataset = common.load_dataset(cfg["data"])
    train = dataset.splits[cfg["data"]["train_split"]]
    tfidf = relevance.CaptionTfidf([dataset.texts[r] for r in train], cfg["relevance"]["min_df"])
    vectors = tfidf.vectors(dataset.texts)
    size = None if cfg["image"]["tower"] == "features" else tuple(cfg["image"]["size"])
    load_image, image_kind = pipeline.image_source(dataset, np.arange(dataset.num_images), size)
    return dataset, tfidf, vectors, load_image, image_kind


def raw_embedding(dataset, rows):
    """The input itself (features, or 16x16 centred pixels), l2-normalised: the untrained
    cosine baseline."""
    if dataset.features is not None:
        x = dataset.features[rows].astype(np.float64)
    else:
        x = tf.image.resize(dataset.images[rows].astype(np.float32), (16, 16)).numpy()
        x = x.reshape(len(rows), -1) - x.reshape(len(rows), -1).mean(1, keepdims=True)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def random_embedding(n, dim=64, seed=0):
    x = np.random.default_rng(seed).normal(size=(n, dim))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def train_model(cfg, name, text_weight, data, workdir, strategy):
    dataset, tfidf, vectors, load_image, image_kind = data
    m = cfg["model"]
    with strategy.scope():
        model = parts.TripletEmbeddingModel(
            parts.visual_encoder(cfg["image"], image_kind, m["embed_dim"]),
            parts.text_encoder(len(tfidf.terms), m["embed_dim"]), m["margin"], text_weight)
    train = dataset.splits[cfg["data"]["train_split"]]
    r = cfg["relevance"]
    n_trip = cfg["train"]["steps"] * cfg["train"]["batch_size"]
    bottom_k = min(len(train) - 1 - r["top_k"], max(1, int(r["bottom_fraction"] * len(train))))
    local = relevance.sample_triplets(relevance.similarity(vectors[train]), n_trip, r["top_k"],
                                      bottom_k, cfg["seed"])
    dataset_fn = parts.triplet_dataset_fn(load_image, vectors, train[local], cfg["train"]["batch_size"])
    timing = common.train(cfg, model, strategy, os.path.join(workdir, name), dataset_fn)
    return model, timing


def embed_images(model, load_image, rows):
    return np.concatenate([np.asarray(model.encode_image(x))
                           for x in pipeline.image_batches(load_image, rows)])


def evaluate(cfg, data, models, rows):
    """Ranking metrics of every setting's embedding and of the two baselines, by name."""
    dataset, _, vectors, load_image, _ = data
    embeddings = baseline_embeddings(dataset, rows, cfg["seed"])
    for setting, model in models.items():
        phi = embed_images(model, load_image, rows)
        if setting == "vt_vt":  # query and database: image + its captions' tf-idf
            phi = _both(model, phi, vectors[rows])
        embeddings[setting] = phi
    by_name, curves = score_embeddings(embeddings, relevance.similarity(vectors[rows]),
                                       cfg["seed"])
    judged = cfg["relevance"].get("human_triplets")
    if judged:  # agreement with real human judgements over the test images
        triplets, choice = relevance.load_triplet_judgements(
            judged, {dataset.image_ids[r]: i for i, r in enumerate(rows)})
        for name, x in embeddings.items():
            x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
            by_name[name]["human_triplet_agreement"] = metrics.triplet_agreement(
                x @ x.T, triplets, choice)
    return by_name, curves


def baseline_embeddings(dataset, rows, seed):
    return {"random": random_embedding(len(rows), seed=seed),
            "raw_features": raw_embedding(dataset, rows)}


def score_embeddings(embeddings, true_rel, seed):
    """{name: {metric: value}} by cosine of each embedding, and the curves."""
    true_rel = np.asarray(true_rel, np.float64)
    rs = parts.r_values(len(true_rel))
    by_name, curves = {}, {}
    for name, x in embeddings.items():
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        pred = x @ x.T
        by_name[name], curves[name] = parts.ranking_metrics(pred, true_rel, rs)
        by_name[name]["triplet_agreement"] = parts.tfidf_triplet_agreement(pred, true_rel,
                                                                           seed=seed)
    return by_name, curves


def flatten_with_chance(by_name, primary):
    """Primary setting's metrics under their plain names (ndcg_auc, pcc_auc, ...), then
    `<metric>_<name>` for all; chance = the same metric of the random embedding."""
    metrics_, chance = {}, {}
    for name in [primary] + list(by_name):
        for key, value in by_name[name].items():
            full = key if name == primary and key not in metrics_ else f"{key}_{name}"
            metrics_[full], chance[full] = value, by_name["random"][key]
    return metrics_, chance


def _both(model, phi, tfidf_rows):
    theta = np.asarray(model.encode_text(tfidf_rows.astype(np.float32)))
    x = phi + theta
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def run(cfg, workdir, strategy, export=False):
    settings, primary = cfg["model"]["settings"], cfg["model"]["primary"]
    if not set(settings) <= set(SETTINGS) or primary not in settings:
        raise ConfigError(f"model.settings must be among {sorted(SETTINGS)} and include "
                          f"model.primary; got {settings}, primary {primary!r}")
    common.save_config(cfg, workdir, __name__)
    data = prepare(cfg)
    dataset = data[0]
    models, timing, trained = {}, {}, {}
    for setting in settings:
        weight = SETTINGS[setting]
        if weight not in trained:
            trained[weight] = train_model(cfg, "visual" if weight == 0 else "joint", weight, data,
                                          workdir, strategy)
        models[setting] = trained[weight][0]
        timing["visual" if weight == 0 else "joint"] = trained[weight][1]
    rows = dataset.splits[cfg["data"]["test_split"]]
    by_name, curves = evaluate(cfg, data, models, rows)
    metrics_, chance = flatten_with_chance(by_name, primary)
    notes = [f"primary setting: {primary}; test images: {len(rows)}; tf-idf terms: "
             f"{len(data[1].terms)}"]
    if cfg["plot"]:
        path = os.path.join(workdir, "ndcg_pcc_curves.png")
        parts.plot_curves(curves, path)
        notes.append(f"curves plot: {path}")
    with open(os.path.join(workdir, "curves.json"), "w") as f:
        json.dump(curves, f)
    results = common.finish(cfg, workdir, dataset, metrics_, chance, timing, notes)
    if export:
        results["export"] = export_model(cfg, workdir, models[primary], data, rows)
    return results
