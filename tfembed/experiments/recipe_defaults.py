"""Config pieces the image-sentence recipes share (data defaults per source, smoke sizes)."""

SHARED = "../shared/data"


def image_sentence_config(recipe, data, smoke):
    synthetic = data.startswith("synthetic")
    cfg = {
        "recipe": recipe, "protocol": "flickr_1k", "seed": 0, "plot": True,
        # tfembed.evaluators (karpathy2015 adds phrase_alignment, the captioner captioning)
        "evals": ["image_text_retrieval"],
        "data": {"source": data, "root": None, "splits": {"train": "train", "val": "val", "test": "test"}},
        "image": {"tower": "conv_small" if synthetic else "features", "size": [64, 64],
                  "frozen": False, "options": {"width": 256} if synthetic else {},
                  "regions": "boxes" if synthetic else "grid", "max_regions": 3, "grid": 2,
                  "crop_size": [32, 32]},
        "text": {"max_words": 24 if synthetic else 32, "vocab_size": 10000, "min_count": 1,
                 "rnn_units": 256},
        # eval_images: val images scored every eval_every steps (best-on-val selection)
        "train": {"steps": 2000, "checkpoint_every": 500, "log_every": 20, "eval_every": 0,
                  "eval_images": 500, "select_metric": "rsum", "replicas": 2},
        "export": {"top_k": 10},
    }
    if data == "flickr8k":
        # The shared subset has 1,000 of the 8,091 images: keep those; features by default.
        cfg["data"].update(only_with_images=True, features="{root}/lite0_features.npz")
        cfg["image"].update(size=[224, 224], crop_size=[224, 224], frozen=True,
                            options={"weights": "{root}/../weights/efficientnet_lite0/"
                                                "efficientnet_lite0_torch.npz"})
    if not synthetic:  # small real training sets overfit: keep the best val rsum
        cfg["train"]["eval_every"] = 200
    if data == "coco":
        cfg["protocol"] = "coco_1k_5fold"
    if smoke:
        if synthetic:
            cfg["data"].update(num_train=64, num_val=8, num_test=24)
            cfg["image"]["options"] = {"width": 16}
        else:  # every file is still read; a frozen CNN runs over a few images only
            cfg["data"]["max_images_per_split"] = 32
        cfg["text"].update(rnn_units=16, vocab_size=2000)
        cfg["plot"] = False
    return cfg


def finish(cfg, smoke):
    """Smoke sizes last, so they win over the recipe's own training settings."""
    if smoke:
        cfg["train"].update(steps=4, batch_size=8, checkpoint_every=2, log_every=2, eval_every=2)
    return cfg
