"""Semantic ranking against caption tf-idf relevance (Gordo & Larlus 2017, section 6, Table 2,
Fig. 2): NDCG@R / PCC@R curves and their areas over log R, and agreement on the user-study
triplets (section 3), as pure functions of embeddings and a relevance matrix.

Every embedding is scored by cosine; an embedding is an array [N, D] (queries = database) or
a (query, database) pair, e.g. the (V+T,V+T) setting: queries l2(phi(I) + theta(t)), database
phi(I) ("the database consists only of images represented with visual embeddings", section 6).
Chance = the same metric of a random embedding (`random_embedding`), given as the "random" row.
"""

import numpy as np

from tfembed import metrics
from tfembed.data import relevance
from tfembed.metrics import ranking

# Fig. 2 plots R = 1 .. 1,000; the user study draws both candidates of a triplet from the
# query's 50 nearest neighbours in pretrained features.
EVAL_DEFAULTS = {"r_max": ranking.PAPER_R_MAX, "r_points": 20, "study_triplets": 5000,
                 "study_neighbours": 50}


def unit(x):
    x = np.asarray(x, np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def random_embedding(n, dim=64, seed=0):
    """The chance row: unit Gaussian vectors."""
    return unit(np.random.default_rng(seed).normal(size=(n, dim)))


def image_text_queries(model, image_embeddings, text_inputs):
    """(V+T) representation l2(phi(I) + theta(t)) of Gordo & Larlus 2017 section 4, from the
    contract: `model.encode_text` over the text tower's inputs (the preprocessor's output)."""
    theta = np.asarray(model.encode_text(text_inputs), np.float64)
    return unit(np.asarray(image_embeddings, np.float64) + theta)


def similarity_matrix(embedding):
    """Cosine scores [queries, database] of an embedding, or of a (query, database) pair."""
    query, database = embedding if isinstance(embedding, tuple) else (embedding, embedding)
    return unit(query) @ unit(database).T


def ranking_metrics(pred, true_rel, rs):
    """ndcg_auc / pcc_auc: areas under the NDCG@R and PCC@R curves over log R (Table 2 and
    Fig. 2; tfembed.metrics.ranking), PCC from R = 2 (one item has no correlation); ndcg@10 /
    ndcg@50 when the database is larger; and the curves."""
    rs = np.asarray(rs)
    ndcg = metrics.curve(metrics.ndcg_at_r, pred, true_rel, rs)
    prs = rs[rs >= 2]
    pcc = metrics.curve(metrics.pcc_at_r, pred, true_rel, prs)
    out = {"ndcg_auc": metrics.area_under_curve(rs, ndcg),
           "pcc_auc": metrics.area_under_curve(prs, pcc) if len(prs) else float("nan")}
    for r in (10, 50):
        if r < pred.shape[1]:
            out[f"ndcg@{r}"] = metrics.ndcg_at_r(pred, true_rel, r)
    return out, {"r": rs.tolist(), "ndcg": ndcg, "pcc_r": prs.tolist(), "pcc": pcc}


def study_triplets(embeddings, true_rel, seed, ev=None):
    """The user-study triplets (a random query, two of its nearest neighbours in the
    `raw_features` embedding, the stand-in for the paper's pretrained ResNet features) judged
    by the relevance: (triplets, choices)."""
    ev = {**EVAL_DEFAULTS, **(ev or {})}
    space = embeddings["raw_features"]
    trip = relevance.sample_study_triplets(space[1] if isinstance(space, tuple) else space,
                                           ev["study_triplets"], ev["study_neighbours"], seed)
    return relevance.judge_by_relevance(trip, np.asarray(true_rel, np.float64))


def score_embeddings(embeddings, true_rel, seed, ev=None, human=None, study=True):
    """{name: {metric: value}} of each embedding (needs "raw_features" for the study
    triplets), plus `tfidf_oracle` (ranking by the relevance itself, Table 2's text oracle),
    and {name: curves}. `human`: optional (triplets, choices) of human judgements; `study`:
    add the user-study agreement (the `user_study` evaluator)."""
    ev = {**EVAL_DEFAULTS, **(ev or {})}
    true_rel = np.asarray(true_rel, np.float64)
    rs = ranking.r_axis(len(true_rel) - 1, ev["r_max"], ev["r_points"])
    preds = {name: similarity_matrix(x) for name, x in embeddings.items()}
    preds["tfidf_oracle"] = true_rel
    study = study_triplets(embeddings, true_rel, seed, ev) if study else None
    by_name, curves = {}, {}
    for name, pred in preds.items():
        by_name[name], curves[name] = ranking_metrics(pred, true_rel, rs)
        if study is not None:
            by_name[name]["user_study_agreement"] = metrics.triplet_agreement(pred, *study)
        if human is not None:
            by_name[name]["human_triplet_agreement"] = metrics.triplet_agreement(pred, *human)
    return by_name, curves


def flatten_with_chance(by_name, primary):
    """(metrics, chance): the primary row's metrics under their plain names (ndcg_auc, ...),
    then `<metric>_<name>` for every row; chance = the same metric of the "random" row."""
    metrics_, chance = {}, {}
    for name in [primary] + list(by_name):
        for key, value in by_name[name].items():
            full = key if name == primary and key not in metrics_ else f"{key}_{name}"
            metrics_[full], chance[full] = value, by_name["random"][key]
    return metrics_, chance


def evaluate(embeddings, true_rel, primary, seed=0, ev=None, human=None, study=True):
    """The evaluator: (metrics, chance, curves) of `embeddings` (a dict with "random" and
    "raw_features" rows) against the relevance `true_rel` [N, N]."""
    by_name, curves = score_embeddings(embeddings, true_rel, seed, ev, human, study)
    metrics_, chance = flatten_with_chance(by_name, primary)
    return metrics_, chance, curves


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
