"""Zero-shot classification and text-to-image retrieval on unseen classes (Reed et al. 2016
Sec. 5; protocols `reed_per_image` and `gbu_per_class`), as pure functions of embeddings."""

import numpy as np

from tfembed import metrics, progress


def evaluate(model, images, texts, labels, text_labels, seed=0, single_queries=1000):
    """`zero_shot_metrics` of an embedding model (anything with `score`) on embeddings."""
    score_fn = lambda a, b: np.asarray(model.score(a, b))  # noqa: E731
    return zero_shot_metrics(score_fn, images, texts, labels, text_labels, seed, single_queries)


def zero_shot_metrics(score_fn, images, texts, labels, text_labels, seed=0, single_queries=1000):
    """Reed 2016's zero-shot protocol on embeddings, each metric with its exact chance.

    Class embedding = mean of the class's text embeddings (Reed Sec. 5; `torch.mean(out, 1)`
    in reedscot/cvpr2016 `retrieval_sje_tcnn.lua`). `zsl_top1_per_image` (protocol
    `reed_per_image`) and `zsl_top1_per_class` (`gbu_per_class`) classify each image among the
    test classes. `retrieval_ap@K` is Reed's AP@K: each class-mean query ranks every test
    image and scores the fraction of its top K from the class (precision@K,
    `util/util_retrieval.lua` `retrieval_at_k`); `retrieval_map@K` is truncated mean AP@K.
    `retrieval_single_query_ap@50` does the same with one description per query
    (`single_queries` of them, drawn with `seed`; 0 skips it).
    """
    with progress.stage(f"evaluate zero-shot ({len(images)} images, {len(texts)} texts)"):
        return _zero_shot_metrics(score_fn, images, texts, labels, text_labels, seed,
                                  single_queries)


def _zero_shot_metrics(score_fn, images, texts, labels, text_labels, seed, single_queries):
    classes = np.unique(labels)
    local = np.searchsorted(classes, labels)
    text_local = np.searchsorted(classes, text_labels)
    class_emb = metrics.class_means(texts, text_local, len(classes))
    scores = score_fn(images, class_emb)
    out = {"zsl_top1_per_image": metrics.top1_per_image(scores, local),
           "zsl_top1_per_class": metrics.top1_per_class(scores, local)}
    chance = {k: metrics.chance_top1(len(classes)) for k in out}
    relevant = local[None, :] == np.arange(len(classes))[:, None]
    for k in (1, 5, 10, 50):
        out[f"retrieval_ap@{k}"] = metrics.mean_precision_at_k(scores.T, relevant, k)
        chance[f"retrieval_ap@{k}"] = metrics.chance_precision_at_k(relevant, k)
        out[f"retrieval_map@{k}"] = metrics.mean_ap_at_k(scores.T, relevant, k)
        chance[f"retrieval_map@{k}"] = metrics.chance_ap_at_k(relevant, k)
    if single_queries:
        pick = np.random.default_rng(seed).permutation(len(texts))[:single_queries]
        q_scores = score_fn(images, texts[pick]).T
        q_relevant = text_local[pick][:, None] == local[None, :]
        out["retrieval_single_query_ap@50"] = metrics.mean_precision_at_k(q_scores, q_relevant, 50)
        chance["retrieval_single_query_ap@50"] = metrics.chance_precision_at_k(q_relevant, 50)
        out["retrieval_single_query_map@50"] = metrics.mean_ap_at_k(q_scores, q_relevant, 50)
        chance["retrieval_single_query_map@50"] = metrics.chance_ap_at_k(q_relevant, 50)
    return out, chance
