"""The validation protocol a search is scored on: train on `train`, score on `val`.

Never the test split: a recipe's config is rewritten so its experiment trains on the split
without the validation rows (classes, for zero-shot) and evaluates on the validation split.
A recipe whose config does not use data.splits.train / val / test declares its own
rewrite as a module-level `validation_config(cfg) -> cfg`.
"""

import copy

import numpy as np

from tfembed.errors import ConfigError


def validation_config(cfg, recipe_module=None):
    """The recipe config pointed at the validation protocol (plots and exports off)."""
    hook = getattr(recipe_module, "validation_config", None)
    if hook is not None:
        cfg = hook(copy.deepcopy(cfg))
    else:
        data = cfg.get("data", {}).get("splits", {})
        missing = [k for k in ("train", "val", "test") if not data.get(k)]
        if missing:
            raise ConfigError(f"tuning {cfg.get('recipe')}: config has no data.splits."
                              f"{missing[0]} and the recipe declares no validation_config(cfg)")
        cfg = copy.deepcopy(cfg)
        if data["train"] == "trainval":  # trainval = train + val: keep val out of training
            cfg["data"]["splits"]["train"] = "train"
        cfg["data"]["splits"]["test"] = data["val"]
    if "plot" in cfg:
        cfg["plot"] = False
    if "enabled" in cfg.get("export", {}):  # trials never export; --retrain-best --export does
        cfg["export"]["enabled"] = False
    cfg["protocol"] = f"{cfg.get('protocol', 'recipe')}_val"  # results name the val protocol
    return cfg


def check_disjoint(full_cfg, val_cfg):
    """ConfigError unless the validation rows avoid the test rows and the training rows, and
    (for zero-shot configs, whose train and test classes are disjoint) the test classes."""
    from tfembed.experiments.common import load_dataset

    keys = ("train", "test")
    if not all(full_cfg.get("data", {}).get("splits", {}).get(k) for k in keys):
        return  # a recipe-declared protocol: the recipe owns this check
    dataset = load_dataset(val_cfg["data"])
    split = lambda name: np.asarray(dataset.splits[name])  # noqa: E731
    for key in keys:
        for cfg in (full_cfg, val_cfg):
            if cfg["data"]["splits"][key] not in dataset.splits:
                raise ConfigError(f"tuning: data.splits.{key}={cfg['data']['splits'][key]!r} is "
                                  f"not a split of "
                                  f"{dataset.name} ({', '.join(sorted(dataset.splits))})")
    val, test = split(val_cfg["data"]["splits"]["test"]), split(full_cfg["data"]["splits"]["test"])
    train = split(val_cfg["data"]["splits"]["train"])
    if np.intersect1d(val, test).size or np.intersect1d(val, train).size:
        raise ConfigError(f"tuning: validation split {val_cfg['data']['splits']['test']!r} shares "
                          "rows with the test or training split")
    labels = np.asarray(dataset.labels)
    zero_shot = not np.intersect1d(labels[split(full_cfg["data"]["splits"]["train"])],
                                   labels[test]).size
    if zero_shot and (np.intersect1d(labels[val], labels[test]).size
                      or np.intersect1d(labels[val], labels[train]).size):
        raise ConfigError("tuning: zero-shot validation classes must be disjoint from the "
                          "training and test classes")
