"""Semantic -> visual zero-shot learning (DEM, Zhang et al. 2017) under the GBU protocol.

For each semantic modality in `model.semantics`: DEM selected on train/val and retrained on
trainval, then the closed-form baselines on the same features and semantics; every method
writes `<workdir>/<modality>/<method>/results.json` and one markdown table sums them up.
"""

import os

import numpy as np

from tfembed.errors import ConfigError
from tfembed.experiments import common, dem_training
from tfembed.experiments.closed_form_zsl import run_baseline
from tfembed.experiments.gbu_eval import gbu_metrics
from tfembed.experiments.semantic_inputs import SemanticSide
from tfembed.experiments.visual_features import visual_space
from tfembed.export import exporter
from tfembed.reports import zsl_table


def _splits(dataset, names=None):
    """GBU roles -> rows; cfg["split_names"] remaps a role to another split (None drops it):
    the tuning protocol scores on val classes instead of test_unseen."""
    names = {role: role for role in ("trainval", "train", "val", "test_unseen", "test_seen")
             } | dict(names or {})
    need = ("trainval", "train", "val", "test_unseen")
    missing = [names[s] for s in need if names[s] not in dataset.splits]
    if missing:
        raise ConfigError(f"{dataset.name} lacks split(s) {missing}: the GBU protocol needs "
                          "trainval, train/val (class-disjoint) and test_unseen (give features)")
    return {role: dataset.splits[name] for role, name in names.items()
            if name is not None and name in dataset.splits}


def _record(cfg, workdir, dataset, kind, method, metrics, chance, timing, notes):
    method_cfg = dict(cfg, method=method, semantic_side=kind)
    return common.finish(method_cfg, workdir, dataset, metrics, chance, timing, notes)


def run_dem(cfg, workdir, strategy, dataset, side, features, tower, seen, unseen, notes,
            splits=None):
    splits = dataset.splits if splits is None else splits
    model, timing = dem_training.select_and_train(cfg, side, features, dataset.labels, splits,
                                                  workdir, strategy, tower)
    # Prototypes of seen classes from trainval descriptions, of unseen from test_unseen ones.
    proto_rows = np.union1d(splits["trainval"], splits["test_unseen"])
    metrics, chance = {}, {}
    for scorer, suffix in (("euclidean", ""), ("cosine", "_cosine")):
        m, c = gbu_metrics(dem_training.score_fn(model, side, features, proto_rows, scorer),
                           dataset.labels, splits, seen, unseen, suffix, cfg["seed"])
        metrics.update(m), chance.update(c)
    notes = notes + [f"DEM weight decay {timing['weight_decay']:g}, {timing['epochs']} epochs "
                     "chosen on train->val; nearest neighbours searched in the visual space"]
    return model, metrics, chance, timing, notes, proto_rows


def export_dem(cfg, workdir, model, side, image_kind, dataset, proto_rows):
    kind, size = image_kind
    classes = np.arange(dataset.num_classes)
    text_fn = None
    if not side.class_level:
        text_fn = lambda strings: model.encode_text({"ids": side.preprocessor(strings)})
    spec = exporter.ServingSpec(
        track=[model] + ([side.preprocessor] if text_fn else []), image_fn=model.encode_image,
        score_fn=model.score, image_kind=kind, image_size=size if kind == "pixels" else None,
        feature_dim=size if kind == "features" else None, text_fn=text_fn,
        prototypes=(list(dataset.class_names), side.prototypes(model.encode_text, classes, proto_rows)),
        metric=model.scorer_name)
    example = common._example_image_bytes(size) if kind == "pixels" else None
    texts = dataset.texts[proto_rows[0]][:2] if text_fn else []
    path = exporter.export(spec, os.path.join(workdir, "export"), model_name=cfg["recipe"],
                           warmup=exporter.warmup_requests(spec, example, texts))
    print(f"exported SavedModel: {path}")
    return path


def run(cfg, workdir, strategy, export=False):
    dataset = common.load_dataset(cfg["data"])
    splits = _splits(dataset, cfg.get("split_names"))
    seen = np.unique(dataset.labels[splits["trainval"]])
    unseen = np.unique(dataset.labels[splits["test_unseen"]])
    features, tower, image_kind, notes = visual_space(cfg["visual"], dataset, strategy)
    results, paths = {}, []
    for kind in cfg["model"]["semantics"]:
        side = SemanticSide(kind, cfg["semantic"], dataset, splits["trainval"], cfg["seed"])
        out = os.path.join(workdir, kind)
        model, m, c, timing, dem_notes, proto_rows = run_dem(
            cfg, os.path.join(out, "dem"), strategy, dataset, side, features, tower, seen, unseen,
            notes + list(cfg.get("notes", {}).get(kind, [])), splits)
        results[(kind, "dem")] = _record(cfg, os.path.join(out, "dem"), dataset, kind, "dem", m,
                                         c, timing, dem_notes)
        if export:
            results[(kind, "dem")]["export"] = export_dem(cfg, os.path.join(out, "dem"), model,
                                                          side, image_kind, dataset, proto_rows)
        if side.class_level:
            semantics = side.class_matrix()
            for name in cfg["baselines"]:
                m, c, n = run_baseline(name, features, dataset.labels, semantics, splits, seen,
                                       unseen, cfg["seed"])
                results[(kind, name)] = _record(cfg, os.path.join(out, name), dataset, kind, name,
                                                m, c, {}, notes + n)
        paths += [os.path.join(out, name, "results.json") for (k, name) in results if k == kind]
    # The first modality's DEM numbers are the run's headline (and tuning) metrics.
    results["metrics"] = results[(cfg["model"]["semantics"][0], "dem")]["metrics"]
    table = zsl_table.markdown(zsl_table.load(paths))
    with open(os.path.join(workdir, "zsl_table.md"), "w") as f:
        f.write(table + "\n")
    print(table)
    return results
