"""Evaluation metrics over score matrices (pure NumPy, higher score = more similar).

Ties are always broken by item index ascending (stable sort of ``-score``).
"""

from tfembed.metrics.hubness import k_occurrence, n_k_skewness
from tfembed.metrics.ranking import (
    area_under_curve,
    curve,
    ndcg_at_r,
    pcc_at_r,
    triplet_agreement,
)
from tfembed.metrics.retrieval import (
    PROTOCOLS,
    average_precision_at_k,
    chance_ap_at_k,
    chance_precision_at_k,
    coco_1k_5fold,
    image_ranks,
    image_text_recall,
    mean_ap_at_k,
    mean_precision_at_k,
    precision_at_k,
    recall_chance,
)
from tfembed.metrics.zero_shot import (
    chance_top1,
    class_means,
    gzsl,
    top1_per_class,
    top1_per_image,
)

__all__ = [
    "PROTOCOLS",
    "area_under_curve",
    "average_precision_at_k",
    "chance_ap_at_k",
    "chance_precision_at_k",
    "chance_top1",
    "class_means",
    "coco_1k_5fold",
    "curve",
    "gzsl",
    "image_ranks",
    "image_text_recall",
    "k_occurrence",
    "mean_ap_at_k",
    "mean_precision_at_k",
    "n_k_skewness",
    "ndcg_at_r",
    "pcc_at_r",
    "precision_at_k",
    "recall_chance",
    "top1_per_class",
    "top1_per_image",
    "triplet_agreement",
]
