"""The published numbers a tfembed run can stand beside (used by tfembed.reports.reproduce).

One `Paper` entry per (recipe, data set, protocol, variant): the paper's values keyed by *our*
results.json metric names, in the paper's units, with the citation (table and row) and how
the number was checked here. A run is set beside an entry only when recipe, data set,
protocol and variant match and its test set has the paper's size (`chance`, `test_images`);
otherwise the report says why there is no comparable number. A number measured on another
data set or split is never entered under ours: old-split numbers carry their own protocol key.

`checked` says what the value was checked against:
  "authors' repository"  the authors' own repository README (read for this table);
  "secondary"            quoted by a later paper or a benchmark site, not the paper's text;
  "notes"                ../shared/docs/papers/*.md only (third-party slides and notes);
  "recalled"             not checked against any text reachable from this machine.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Paper:
    recipe: str
    datasets: tuple            # results.json `dataset` names, lower-case, "karpathy/" dropped
    protocol: str              # results.json `protocol`
    values: dict               # our metric key -> the paper's value, in `units`
    citation: str              # paper, table, row, columns
    checked: str               # see the module docstring
    units: str = "%"
    variant: dict = field(default_factory=dict)   # flattened config key -> required value
    chance: tuple = None       # (metric, chance of the paper's test set): a size check
    test_images: int = None    # the paper's test-set size, checked against a run's notes
    setting: str = ""          # the paper's features / inputs, for the deviation column


def _gbu(method, dataset, n_unseen, t1, u, s, h, citation, checked, variant, recipe,
         setting="ResNet-101 features (2048-d), class attributes"):
    return Paper(recipe, (f"xlsa17/{dataset.lower()}",), "gbu_per_class",
                 {"zsl_top1_per_class": t1, "gzsl_u": u, "gzsl_s": s, "gzsl_h": h},
                 f"{citation}, row '{method}', {dataset} columns (T1 / u / s / H)", checked,
                 variant=variant, chance=("zsl_top1_per_class", 1 / n_unseen), setting=setting)


DEM_README = ("Zhang et al. 2017, GBU-setting table in the authors' README "
              "(lzrobots/DeepEmbeddingModel_ZSL)")
XIAN_VIA_DEM = ("Xian et al. 2018 (GBU), as tabulated in the DEM authors' README "
                "(lzrobots/DeepEmbeddingModel_ZSL)")
GBU = {  # dataset: unseen classes, DEM, ESZSL, DeViSE (T1, u, s, H), per the DEM README
    "CUB": (50, (51.7, 19.6, 57.9, 29.2), (53.9, 12.6, 63.8, 21.0), (52.0, 23.8, 53.0, 32.8)),
    "AWA1": (10, (68.4, 32.8, 84.7, 47.3), (58.2, 6.6, 75.6, 12.1), (54.2, 13.4, 68.7, 22.4)),
    "AWA2": (10, (67.1, 30.5, 86.4, 45.1), (58.6, 5.9, 77.8, 11.0), (59.7, 17.1, 74.7, 27.8)),
    "APY": (12, (35.0, 11.1, 75.1, 19.4), (38.3, 2.4, 70.1, 4.6), (39.8, 4.9, 76.9, 9.2)),
    "SUN": (72, (61.9, 20.5, 34.3, 25.6), (54.5, 11.0, 27.9, 15.8), (56.5, 16.9, 27.4, 20.9)),
}

REED_T1 = "Reed et al. 2016, Table 1 (CUB), row '{row}', {loss} columns (top-1 acc. / AP@50)"
REED_SETTING = "GoogLeNet features (1024-d, fixed), Reed's 100 + 50 train / 50 test classes"
FLOWERS_SETTING = "GoogLeNet features (1024-d, fixed), 62 + 20 train / 20 test classes"
KARPATHY_SETTING = ("top-19 R-CNN detections + whole image (4096-d CNN), BRNN over 300-d "
                    "word2vec, h = 1000")
WANG_SETTING = "VGG-19 image features (4096-d), Fisher-vector (HGLMM) sentence features"
GORDO_SETTING = "ResNet-101 R-MAC trained end to end on Visual Genome, tf-idf of human captions"


def _ranking(recipe, datasets, protocol, i2t, t2i, citation, checked, setting):
    keys = ("r@1", "r@5", "r@10", "medr")
    values = {f"{side}_{k}": v for side, vals in (("i2t", i2t), ("t2i", t2i))
              for k, v in zip(keys, vals) if v is not None}
    return Paper(recipe, datasets, protocol, values, citation, checked,
                 units="% (R@K), rank (med r)", setting=setting)


PAPERS = [
    # -- Reed, Akata, Lee, Schiele 2016 (CUB: 50 unseen test classes; Flowers: 20) ----------
    Paper("reed2016", ("cub",), "reed_per_image",
          {"zsl_top1_per_image": 54.0, "retrieval_ap@50": 45.6},
          REED_T1.format(row="CHAR CNN-RNN", loss="DS-SJE"),
          "recalled (the authors' released model re-evaluates to 54.7 / 45.5 in "
          "rightlit/cvpr2016-rev README)",
          variant={"text.encoder": "char_cnn_rnn", "model.task": "ds_sje"},
          chance=("zsl_top1_per_image", 1 / 50), setting=REED_SETTING),
    Paper("reed2016", ("cub",), "reed_per_image",
          {"zsl_top1_per_image": 56.8, "retrieval_ap@50": 48.7},
          REED_T1.format(row="WORD CNN-RNN", loss="DS-SJE"),
          "secondary (Papers-with-Code entry of arXiv 1605.05395: 56.8 / 48.7; Zhang et al. "
          "2017 Table 2 quotes DS-SJE (D) 56.8)",
          variant={"text.encoder": "word_cnn_rnn", "model.task": "ds_sje"},
          chance=("zsl_top1_per_image", 1 / 50), setting=REED_SETTING),
    Paper("reed2016", ("cub",), "reed_per_image", {"zsl_top1_per_image": 50.4},
          REED_T1.format(row="ATTRIBUTES", loss="DS-SJE") + " (top-1 only)",
          "secondary (Zhang et al. 2017 Table 2 quotes DS-SJE (A) 50.4; Papers-with-Code: "
          "DS-SJE 50.4, DA-SJE 50.9)",
          variant={"text.encoder": "attributes", "model.task": "ds_sje"},
          chance=("zsl_top1_per_image", 1 / 50), setting=REED_SETTING),
    Paper("reed2016", ("cub",), "reed_per_image", {"zsl_top1_per_image": 50.9},
          REED_T1.format(row="ATTRIBUTES", loss="DA-SJE") + " (top-1 only)",
          "secondary (Papers-with-Code entry of arXiv 1605.05395: DA-SJE 50.9)",
          variant={"text.encoder": "attributes", "model.task": "da_sje"},
          chance=("zsl_top1_per_image", 1 / 50), setting=REED_SETTING),
    Paper("reed2016", ("cub",), "reed_per_image", {"zsl_top1_per_image": 44.1},
          REED_T1.format(row="BAG-OF-WORDS", loss="DS-SJE") + " (top-1 only)", "recalled",
          variant={"text.encoder": "bow", "model.task": "ds_sje"},
          chance=("zsl_top1_per_image", 1 / 50), setting=REED_SETTING),
    Paper("reed2016", ("flowers",), "reed_per_image",
          {"zsl_top1_per_image": 65.6, "retrieval_ap@50": 59.6},
          "Reed et al. 2016, Flowers table, row 'CHAR CNN-RNN', DS-SJE (top-1 acc. / AP@50)",
          "secondary, row uncertain (Papers-with-Code lists 65.6 / 59.6 under 'Word CNN-RNN'; "
          "the authors' released char-CNN-RNN model re-evaluates to 63.7 / 57.3 in "
          "rightlit/cvpr2016-rev README)",
          variant={"text.encoder": "char_cnn_rnn", "model.task": "ds_sje"},
          chance=("zsl_top1_per_image", 1 / 20), setting=FLOWERS_SETTING),

    # -- Zhang, Xiang, Gong 2017 (DEM). GBU: not in the CVPR paper, from the authors' README.
    *[_gbu("DEM (OURS)", ds, n, *dem, DEM_README, "authors' repository",
           {"method": "dem", "semantic_side": "attributes"}, "zhang2017")
      for ds, (n, dem, _, _) in GBU.items()],
    *[_gbu("ESZSL", ds, n, *eszsl, XIAN_VIA_DEM, "authors' repository (quoting Xian et al.)",
           {"method": "eszsl", "semantic_side": "attributes"}, "zhang2017")
      for ds, (n, _, eszsl, _) in GBU.items()],
    # The CVPR paper's own tables use the old standard splits (AwA 40/10, CUB 150/50) and
    # GoogLeNet / Inception features: protocol "standard_split", never set beside a GBU run.
    Paper("zhang2017", ("cub",), "standard_split",
          {"zsl_top1_per_class": 58.3, "hubness_n1_skewness": 2.2594},
          "Zhang et al. 2017, Table 2 row 'Ours' (A), CUB; N1 skewness table, row "
          "'Semantic -> Visual'", "notes", units="% (top-1), skewness",
          variant={"method": "dem", "semantic_side": "attributes"},
          chance=("zsl_top1_per_class", 1 / 50), setting="GoogLeNet features, 312 attributes"),
    Paper("zhang2017", ("cub",), "standard_split", {"zsl_top1_per_class": 45.7},
          "Zhang et al. 2017, linear-regression ablation table, row 'Linear regression (S -> V)', "
          "CUB", "notes", variant={"method": "linear_semantic_to_visual"},
          chance=("zsl_top1_per_class", 1 / 50), setting="GoogLeNet features"),
    Paper("zhang2017", ("cub",), "standard_split", {"zsl_top1_per_class": 40.7},
          "Zhang et al. 2017, linear-regression ablation table, row 'Linear regression (V -> S)', "
          "CUB", "notes", variant={"method": "linear_visual_to_semantic"},
          chance=("zsl_top1_per_class", 1 / 50), setting="GoogLeNet features"),

    # -- DeViSE (Frome et al. 2013) reports ImageNet only; GBU numbers are Xian et al.'s. ----
    *[_gbu("DEVISE", ds, n, *devise, XIAN_VIA_DEM, "authors' repository (quoting Xian et al.)",
           {}, "devise", setting="ResNet-101 features (2048-d), class *attributes* as the "
                                 "label embedding")
      for ds, (n, _, _, devise) in GBU.items()],

    # -- Karpathy & Fei-Fei 2015: retrieval (BRNN) and generation --------------------------
    _ranking("karpathy2015", ("flickr8k",), "flickr_1k", (16.5, 40.6, 54.2, 7.6),
             (11.8, 32.1, 44.7, 12.4),
             "Karpathy & Fei-Fei 2015 (arXiv / PAMI version), Flickr8K ranking table, row "
             "'Our model: BRNN'", "recalled (also quoted in our README)", KARPATHY_SETTING),
    _ranking("karpathy2015", ("flickr30k",), "flickr_1k", (22.2, 48.2, 61.4, 4.8),
             (15.2, 37.7, 50.5, 9.2),
             "Karpathy & Fei-Fei 2015, Table 1, Flickr30K, row 'Our model: BRNN'", "notes",
             KARPATHY_SETTING),
    _ranking("karpathy2015", ("coco",), "coco_1k_5fold", (38.4, 69.9, 80.5, 1.0),
             (27.4, 60.2, 74.8, 3.0),
             "Karpathy & Fei-Fei 2015, Table 1, MSCOCO, row 'Our model: 1K test images'", "notes",
             KARPATHY_SETTING),
    _ranking("karpathy2015", ("coco",), "coco_5k", (16.5, 39.2, 52.0, 9.0),
             (10.7, 29.6, 42.2, 14.0),
             "Karpathy & Fei-Fei 2015, Table 1, MSCOCO, row 'Our model: 5K test images'", "notes",
             KARPATHY_SETTING),
    *[Paper("karpathy2015_captions", (ds,), "bleu_corpus",
            dict(zip(("bleu_1", "bleu_2", "bleu_3", "bleu_4"), bleu)),
            f"Karpathy & Fei-Fei 2015, Table 2 (full-image generation), {name} columns, "
            "row 'Our model' (B-1 / B-2 / B-3 / B-4)",
            "recalled (the same values appear as 'Deep VS' in Xu et al. 2015, Table 1)",
            units="BLEU x 100", setting="VGG-16 image vector, simple RNN (ReLU)",
            test_images=n)
      for ds, name, n, bleu in (("flickr8k", "Flickr8K", 1000, (57.9, 38.3, 24.5, 16.0)),
                                ("flickr30k", "Flickr30K", 1000, (57.3, 36.9, 24.0, 15.7)),
                                ("coco", "MSCOCO", 5000, (62.5, 45.0, 32.1, 23.0)))],

    # -- Wang, Li, Lazebnik 2016 -------------------------------------------------------------
    _ranking("wang2016", ("flickr30k",), "flickr_1k", (40.3, 68.9, 79.9, None),
             (29.7, 60.1, 72.1, None),
             "Wang et al. 2016, Flickr30K retrieval table, best row 'Ours' (joint cross-view + "
             "structure-preserving loss, HGLMM FV text)", "recalled", WANG_SETTING),
    _ranking("wang2016", ("coco",), "coco_1k_5fold", (50.1, 79.7, 89.2, None),
             (39.6, 75.2, 86.9, None),
             "Wang et al. 2016, MSCOCO (1K test) retrieval table, best row 'Ours' (joint loss, "
             "HGLMM FV text)", "recalled", WANG_SETTING),

    # -- Gordo & Larlus 2017, Table 2 (Visual Genome): NDCG-AUC / PCC-AUC x 100, US in % ----
    Paper("gordo2017", ("visual_genome",), "tfidf_caption_relevance",
          {"ndcg_auc_v_v": 70.1, "pcc_auc_v_v": 20.7, "human_triplet_agreement_v_v": 76.9,
           "ndcg_auc_vt_v": 68.8, "pcc_auc_vt_v": 21.1, "human_triplet_agreement_vt_v": 77.2,
           "ndcg_auc_vt_vt": 74.4, "pcc_auc_vt_vt": 22.5, "human_triplet_agreement_vt_vt": 78.6,
           "ndcg_auc_raw_features": 58.4, "pcc_auc_raw_features": 16.1,
           "human_triplet_agreement_raw_features": 64.0,
           "ndcg_auc_random": 10.2, "pcc_auc_random": -0.2,
           "human_triplet_agreement_random": 50.0,
           "ndcg_auc_tfidf_oracle": 100.0, "pcc_auc_tfidf_oracle": 100.0,
           "human_triplet_agreement_tfidf_oracle": 76.3},
          "Gordo & Larlus 2017, Table 2, rows 'Proposed (V,V)', '(V+T,V)', '(V+T,V+T)', "
          "'Visual baseline', 'Random (x5)', 'Text oracle: caption tf-idf' (NDCG AUC / PCC AUC "
          "/ US)", "notes", units="AUC x 100, US agreement %", setting=GORDO_SETTING),
    Paper("wsabie", ("visual_genome",), "tfidf_caption_relevance",
          {"ndcg_auc_wsabie": 61.0, "pcc_auc_wsabie": 15.7,
           "human_triplet_agreement_wsabie": 67.8,
           "ndcg_auc_raw_features": 58.4, "pcc_auc_raw_features": 16.1,
           "ndcg_auc_random": 10.2, "pcc_auc_random": -0.2},
          "Gordo & Larlus 2017, Table 2, row 'WSABIE (V+T, V)' (NDCG AUC / PCC AUC / US)",
          "notes", units="AUC x 100, US agreement %", setting=GORDO_SETTING),
]

# Data sets no paper reports, and what the papers report instead (the "why" of a "–").
NO_PAPER = {
    "synthetic_birds": "synthetic birds generated by this repository; no paper reports them",
    "synthetic_scenes": "synthetic scenes generated by this repository; no paper reports them",
}
RECIPE_SCOPE = {
    "reed2016": "Reed et al. 2016 report CUB and Flowers on their own class splits",
    "zhang2017": "DEM is reported on AwA / CUB (standard splits, CVPR tables) and on the GBU "
                 "splits of AwA1/AwA2/CUB/aPY/SUN (authors' README)",
    "karpathy2015": "Karpathy & Fei-Fei 2015 report Flickr8K / Flickr30K (1,000 test images) "
                    "and MSCOCO (1K and 5K test images)",
    "karpathy2015_captions": "Karpathy & Fei-Fei 2015 report BLEU on the full Flickr8K / "
                             "Flickr30K / MSCOCO test sets",
    "wang2016": "Wang et al. 2016 report Flickr30K and MSCOCO (1,000 test images)",
    "gordo2017": "Gordo & Larlus 2017 report Visual Genome only",
    "wsabie": "WSABIE (Weston et al. 2011) reports ImageNet / web images; Gordo & Larlus 2017 "
              "report it on Visual Genome",
    "devise": "Frome et al. 2013 report ImageNet only; Xian et al. 2018 report DeViSE on the "
              "GBU splits",
}
