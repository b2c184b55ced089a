"""Same-run closed-form baselines of the Reed protocol, reported beside the trained model with
the metric suffix of the baseline (e.g. `zsl_top1_per_image_tfidf_ridge`)."""

import numpy as np

from tfembed import progress
from tfembed.baselines.tfidf_ridge import TfidfRidge
from tfembed.data import pipeline
from tfembed.evaluators.zero_shot import zero_shot_metrics

ZERO_SHOT_BASELINES = ("tfidf_ridge",)  # baselines (declared in tfembed.config.CHOICES)


def run_baselines(cfg, dataset, train_rows, test_rows, is_text):
    """({metric_suffix: value}, chance, notes) of the configured baselines."""
    metrics, chance, notes = {}, {}, []
    for name in cfg.get("baselines") or ():
        if not is_text or dataset.features is None:
            notes.append(f"baseline {name} skipped: it needs descriptions and fixed image "
                         f"features (data.features)")
            continue
        with progress.stage(f"baseline {name} (fit, grid search, evaluate)"):
            m, c, note = tfidf_ridge(dataset, train_rows, test_rows, cfg["seed"])
        metrics.update({f"{k}_{name}": v for k, v in m.items()})
        chance.update({f"{k}_{name}": v for k, v in c.items()})
        notes.append(note)
    return metrics, chance, notes


def tfidf_ridge(dataset, train_rows, test_rows, seed=0):
    texts, offsets = pipeline.flat_texts(dataset.texts, train_rows)
    counts = np.diff(offsets)
    model = TfidfRidge().fit(texts, np.repeat(dataset.labels[train_rows], counts),
                             np.repeat(dataset.features[train_rows], counts, axis=0), seed)
    test_texts, test_offsets = pipeline.flat_texts(dataset.texts, test_rows)
    text_labels = np.repeat(dataset.labels[test_rows], np.diff(test_offsets))
    out, chance = zero_shot_metrics(model.score, model.embed_images(dataset.features[test_rows]),
                                    model.embed_texts(test_texts), dataset.labels[test_rows],
                                    text_labels, seed)
    return out, chance, (f"baseline tfidf_ridge: tf-idf ({model.pre.vocabulary_size()} ids) -> "
                         f"ridge (lambda {model.lam}, chosen on held-out seen classes) -> image "
                         f"features, cosine to class-mean queries")
