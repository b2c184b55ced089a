"""Semantic retrieval with caption tf-idf relevance (Gordo & Larlus 2017): triplets sampled
by caption similarity train a visual embedding (V,V) or a joint visual + tf-idf text one
(V+T,V), queried by image or by image + text (V+T,V+T) against a database of visual embeddings
only; every setting is scored with NDCG@R and PCC@R against the tf-idf similarity of the test
images and with the paper's user-study triplets, beside random, raw features and the tf-idf
oracle."""

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
from tfembed.metrics import ranking

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


def setting_embeddings(model, setting, load_image, tfidf_rows, rows):
    """(query, database) embeddings of one setting over the test `rows`.

    Gordo & Larlus 2017, section 6, "Methods and baselines": the second element of the tuple
    says whether one queries with the image's visual embedding (V) or with the image and its
    text (V+T, here l2(phi(I) + theta(t)) with t the tf-idf of its captions); "In all cases,
    the database consists only of images represented with visual embeddings, with no textual
    information." So only (V+T,V+T) queries differ, and its database is phi(I) as for the others.
    """
    phi = embed_images(model, load_image, rows)
    if setting == "vt_vt":
        return _both(model, phi, tfidf_rows), phi
    return phi, phi


def evaluate(cfg, data, models, rows):
    """Ranking metrics of every setting's embedding, the two baselines and the tf-idf oracle,
    by name, and the curves."""
    dataset, _, vectors, load_image, _ = data
    embeddings = baseline_embeddings(dataset, rows, cfg["seed"])
    for setting, model in models.items():
        embeddings[setting] = setting_embeddings(model, setting, load_image, vectors[rows], rows)
    judged = cfg["relevance"].get("human_triplets")
    human = None
    if judged:  # real human judgements over the test images, scored like the tf-idf judge's
        human = relevance.load_triplet_judgements(
            judged, {dataset.image_ids[r]: i for i, r in enumerate(rows)})
    return score_embeddings(embeddings, relevance.similarity(vectors[rows]), cfg["seed"],
                            cfg.get("eval"), human)


def baseline_embeddings(dataset, rows, seed):
    return {"random": random_embedding(len(rows), seed=seed),
            "raw_features": raw_embedding(dataset, rows)}


# Gordo & Larlus 2017: Fig. 2 plots R = 1 .. 1,000; the user study (section 3) draws both
# candidates of a triplet from the query's 50 nearest neighbours in pretrained features.
EVAL_DEFAULTS = {"r_max": ranking.PAPER_R_MAX, "r_points": 20, "study_triplets": 5000,
                 "study_neighbours": 50}


def _unit(x):
    x = np.asarray(x, np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def similarity_matrix(embedding):
    """Cosine scores [queries, database] of an embedding, or of a (query, database) pair."""
    query, database = embedding if isinstance(embedding, tuple) else (embedding, embedding)
    return _unit(query) @ _unit(database).T


def study_triplets(embeddings, true_rel, seed, ev=None):
    """The user-study triplets of the test set (neighbours in the raw-feature baseline, the
    recipe's stand-in for the paper's pretrained ResNet features) judged by tf-idf relevance:
    (triplets, choices)."""
    ev = {**EVAL_DEFAULTS, **(ev or {})}
    space = embeddings["raw_features"]
    trip = relevance.sample_study_triplets(space[1] if isinstance(space, tuple) else space,
                                           ev["study_triplets"], ev["study_neighbours"], seed)
    return relevance.judge_by_relevance(trip, np.asarray(true_rel, np.float64))


def score_embeddings(embeddings, true_rel, seed, ev=None, human=None):
    """{name: {metric: value}} by cosine of each embedding (an array, or a (query, database)
    pair), plus `tfidf_oracle` (ranking by the ground truth itself, Table 2's text oracle),
    and the curves. `human`: optional (triplets, choices) of human judgements."""
    ev = {**EVAL_DEFAULTS, **(ev or {})}
    true_rel = np.asarray(true_rel, np.float64)
    rs = ranking.r_axis(len(true_rel) - 1, ev["r_max"], ev["r_points"])
    preds = {name: similarity_matrix(x) for name, x in embeddings.items()}
    preds["tfidf_oracle"] = true_rel
    study = study_triplets(embeddings, true_rel, seed, ev)
    by_name, curves = {}, {}
    for name, pred in preds.items():
        by_name[name], curves[name] = parts.ranking_metrics(pred, true_rel, rs)
        by_name[name]["user_study_agreement"] = metrics.triplet_agreement(pred, *study)
        if human is not None:
            by_name[name]["human_triplet_agreement"] = metrics.triplet_agreement(pred, *human)
    return by_name, curves


def protocol_notes(curves, ev=None, human=False, n_images=None):
    """results.json notes: the R axis actually used, the metric units and the study protocol."""
    ev = {**EVAL_DEFAULTS, **(ev or {})}
    c = next(iter(curves.values()))
    k = ev["study_neighbours"] if n_images is None else min(ev["study_neighbours"], n_images - 1)
    notes = [f"ndcg_auc, pcc_auc: mean height of the NDCG@R / PCC@R curves over log R (the "
             f"R = 1..1,000 log axis of Gordo & Larlus 2017 Fig. 2), here R = {c['r'][0]}.."
             f"{c['r'][-1]} at {c['r']} (PCC from R = 2); unit: fraction, Table 2 of the paper "
             "prints x100",
             f"user_study_agreement: the paper's user-study protocol (section 3): "
             f"{ev['study_triplets']} triplets, a random query and two images among its "
             f"{k} nearest neighbours in the raw features, judged by the "
             "tf-idf relevance as a proxy for the paper's human judges; the tfidf_oracle row "
             "is therefore 1 by construction (a ceiling, not the paper's 76.3, which is the "
             "tf-idf agreement with humans); ties in tf-idf are dropped"]
    if human:
        notes.append("human_triplet_agreement: agreement with the human judgements of "
                     "relevance.human_triplets (the paper's US column); its tfidf_oracle row is "
                     "the paper's 'Caption tf-idf' row (76.3 on Visual Genome)")
    return notes


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
    notes += protocol_notes(curves, cfg.get("eval"), bool(cfg["relevance"].get("human_triplets")),
                            len(rows))
    # The study triplets with the tf-idf judge's answers, for human judges to re-answer
    # (then --set relevance.human_triplets=that file).
    path = os.path.join(workdir, "user_study_triplets.csv")
    baselines = baseline_embeddings(dataset, rows, cfg["seed"])
    triplets, choices = study_triplets(baselines, relevance.similarity(data[2][rows]),
                                       cfg["seed"], cfg.get("eval"))
    relevance.write_triplet_judgements(path, triplets, choices,
                                       [dataset.image_ids[r] for r in rows])
    notes.append(f"user-study triplets (tf-idf choices): {path}")
    with open(os.path.join(workdir, "curves.json"), "w") as f:
        json.dump(curves, f)
    results = common.finish(cfg, workdir, dataset, metrics_, chance, timing, notes)
    if export:
        results["export"] = export_model(cfg, workdir, models[primary], data, rows)
    if cfg["plot"]:  # last: a failing plot is a warning
        def plot():
            path = os.path.join(workdir, "ndcg_pcc_curves.png")
            parts.plot_curves(curves, path)
            return f"curves plot: {path}"
        common.run_plots(workdir, results, [("curves plot", plot)])
    return results
