"""Evaluators: pure functions of embeddings (or an embedding model) and rows -> (metrics, chance).

A recipe lists the evaluators its run computes in `evals` (the one config shape); `selected`
checks the list against what the run can compute. The names:

  annotation            WSABIE (Weston et al. 2011): precision@k of the ranked labels
  zero_shot             Reed et al. 2016: per-image top-1 and AP@50 on unseen classes
  gbu                   Xian et al. 2018: per-class ZSL top-1, GZSL u/s/H, hubness
  image_text_retrieval  R@K / median / mean rank both ways (flickr_1k, coco_1k_5fold, coco_5k)
  phrase_alignment      Karpathy & Fei-Fei Sec. 3.1.4: MRF phrase -> box accuracy
  semantic_ranking      Gordo & Larlus 2017: NDCG@R / PCC@R against caption relevance
  user_study            Gordo & Larlus 2017 Sec. 5: agreement on nearest-neighbour triplets
  captioning            corpus BLEU-1..4 of generated captions
"""

from tfembed.errors import ConfigError

EVALUATORS = ("annotation", "zero_shot", "gbu", "image_text_retrieval", "phrase_alignment", "semantic_ranking",
              "user_study", "captioning")


def selected(cfg, headline, optional=()):
    """The evaluators of `cfg["evals"]` this run computes. `headline` gives the metrics the run
    selects checkpoints on, is tuned on and reports first, so it cannot be left out; `optional`
    are the others the run can add."""
    listed = list(cfg.get("evals") or [])
    valid = [headline, *optional]
    bad = [name for name in listed if name not in valid]
    if bad or headline not in listed:
        raise ConfigError(f"evals={listed}: this run computes {', '.join(valid)} and needs "
                          f"{headline!r} (its headline metrics); "
                          + (f"{bad[0]!r} is not one of them" if bad else f"add {headline!r}"))
    return listed
