"""Semantic -> visual zero-shot learning (DEM, Zhang et al. 2017) under the GBU protocol.

For each semantic modality in `model.semantics`: DEM selected on train/val and retrained on
trainval, then the closed-form baselines on the same features and semantics; every method
writes `<workdir>/<modality>/<method>/results.json` and one markdown table sums them up.
DEM is a `tfembed.models.JointEmbedding` (dem_training), scored by `model.score` and
evaluated by `tfembed.evaluators.gbu`; `<modality>/dem` is a run directory that
`tfembed export` re-exports (run_bundle) without the data set.
"""

import json
import os

import numpy as np

from tfembed import scorers
from tfembed import evaluators
from tfembed.evaluators import gbu
from tfembed.experiments import common, dem_training
from tfembed.experiments.closed_form_zsl import run_baseline
from tfembed.experiments.semantic_inputs import SemanticInputs
from tfembed.experiments.visual_features import visual_space
from tfembed.export import run_bundle
from tfembed.reports import zsl_table
from tfembed.training.strategy import is_chief


def _record(cfg, workdir, dataset, kind, method, metrics, chance, timing, notes):
    method_cfg = dict(cfg, method=method, semantic_side=kind)
    return common.finish(method_cfg, workdir, dataset, metrics, chance, timing, notes)


def run_dem(cfg, workdir, strategy, dataset, side, features, seen, unseen, notes, splits=None):
    splits = dataset.splits if splits is None else splits
    model, timing = dem_training.select_and_train(cfg, side, features, dataset.labels, splits,
                                                  workdir, strategy)
    # Prototypes of seen classes from trainval descriptions, of unseen from test_unseen ones.
    proto_rows = np.union1d(splits["trainval"], splits["test_unseen"])
    images, protos = dem_training.embed(model, side, features, dataset.labels, proto_rows,
                                        dataset.num_classes)
    metrics, chance = {}, {}
    for scorer, suffix in ((None, ""), (scorers.cosine, "_cosine")):  # None: model.score
        m, c = gbu.evaluate(model, images, protos, dataset.labels, splits, seen, unseen, suffix,
                            cfg["seed"], scorer)
        metrics.update(m), chance.update(c)
    notes = notes + [f"DEM weight decay {timing['weight_decay']:g}, {timing['epochs']} epochs "
                     "chosen on train->val; nearest neighbours searched in the visual space"]
    return model, metrics, chance, timing, notes, protos


def save_dem(cfg, workdir, model, side, visual_tower, image_kind, dataset, protos, export):
    """Keep what `tfembed export RUN_DIR` needs (run_bundle: the model with the frozen visual
    tower as its image tower, the text preprocessor, every class's mapped prototype), then,
    with --export, publish it through the same code path; returns the export path or None."""
    if not is_chief():
        return None
    with open(os.path.join(workdir, "config.json"), "w") as f:  # marks a run directory
        json.dump({"experiment": __name__, "config": cfg}, f, indent=2)
    texts = list(dataset.texts[0])[:2] if side.preprocessor is not None else ()
    run_bundle.save(workdir, dem_training.serving_model(model, visual_tower), image_kind,
                    side.preprocessor, prototypes=(list(dataset.class_names), protos),
                    model_name=cfg["recipe"], example_texts=texts)
    return run_bundle.export_run(workdir) if export else None


def run(cfg, workdir, strategy, export=False):
    evaluators.selected(cfg, "gbu")
    dataset = common.load_dataset(cfg["data"])
    splits = gbu.gbu_roles(dataset, cfg["data"]["splits"],
                           need=("trainval", "train", "val", "test_unseen"))
    seen = np.unique(dataset.labels[splits["trainval"]])
    unseen = np.unique(dataset.labels[splits["test_unseen"]])
    features, tower, image_kind, notes = visual_space(cfg["visual"], dataset, strategy,
                                                      cfg["data"]["splits"]["train"])
    results, paths = {}, []
    for kind in cfg["model"]["semantics"]:
        side = SemanticInputs(kind, cfg["semantic"], dataset, splits["trainval"], cfg["seed"])
        out = os.path.join(workdir, kind)
        dem_dir = os.path.join(out, "dem")
        model, m, c, timing, dem_notes, protos = run_dem(
            cfg, dem_dir, strategy, dataset, side, features, seen, unseen,
            notes + list(cfg["notes"].get(kind, [])) + side.notes, splits)
        results[(kind, "dem")] = _record(cfg, dem_dir, dataset, kind, "dem", m, c, timing,
                                         dem_notes)
        path = save_dem(dict(cfg, method="dem", semantic_side=kind), dem_dir, model, side, tower,
                        image_kind, dataset, protos, export)
        if path:
            results[(kind, "dem")]["export"] = path
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
