"""Steps every experiment shares: data loading, the trainer, results, plots.

Order at the end of a run: results.json (and the printed table), then the export, then plots
(`run_plots`): a plot that fails is a warning in the notes, never the end of the run.
"""

import json
import os
import sys

import numpy as np

from tfembed import data
from tfembed.config import flatten
from tfembed.errors import ConfigError
from tfembed.training import checkpoints
from tfembed.training import results as results_lib
from tfembed.training.strategy import is_chief
from tfembed.training.trainer import Trainer, make_optimizer


def save_config(cfg, workdir, experiment):
    """config.json lets `tfembed export RUN_DIR` rebuild the model later. Checkpoints of
    another configuration in the run are an error here, before config.json is replaced."""
    for ckpt_dir in _run_checkpoint_dirs(workdir):
        checkpoints.check_config(cfg, ckpt_dir, warn=False)
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "config.json"), "w") as f:
        json.dump({"experiment": experiment, "config": cfg}, f, indent=2)


def _run_checkpoint_dirs(workdir):
    """The checkpoints/ of a run's trainers: its own and those of sub-directories (Gordo's
    visual/, joint/), but not of other runs inside it (best/, tuning trials: own config.json)."""
    found = []
    for root, dirs, files in os.walk(workdir):
        if os.path.basename(root) == "checkpoints":
            found.append(root)
            dirs[:] = []
        elif root != workdir and "config.json" in files:
            dirs[:] = []
        else:
            dirs[:] = [d for d in dirs if d not in ("export", "tensorboard", "trials", "tuner")]
    return found


def restore_weights(model, run_dir):
    """Load the model weights of the newest intact training checkpoint in `run_dir` (an
    unreadable state file or truncated checkpoints are skipped with a warning naming them)."""
    import tensorflow as tf

    latest = checkpoints.newest_intact(os.path.join(run_dir, "checkpoints"))
    if latest is None:
        raise ConfigError(f"no training checkpoint under {run_dir}/checkpoints")
    tf.train.Checkpoint(model=model).restore(latest).expect_partial()


def load_dataset(data_cfg):
    """`data_cfg`: source, root, and any source options (other keys are pipeline settings)."""
    reserved = {"source", "root", "splits"}
    options = {k: v for k, v in data_cfg.items() if k not in reserved}
    return data.load(data_cfg["source"], data_cfg.get("root"), **options)


def train(cfg, model, strategy, workdir, dataset_fn, eval_fn=None):
    t = cfg["train"]
    with strategy.scope():
        optimizer = make_optimizer(t["optimizer"], t["learning_rate"])
    trainer = Trainer(model, optimizer, strategy, workdir, t["steps"], t["batch_size"],
                      checkpoint_every=t["checkpoint_every"], log_every=t["log_every"],
                      eval_every=t["eval_every"] if eval_fn else 0, eval_fn=eval_fn,
                      select_metric=t.get("select_metric") if eval_fn else None, config=cfg)
    return trainer.fit(dataset_fn)


# Set by tfembed.recipe.main: whether the run is --smoke, and every results.json the run
# wrote (their "export" is filled in once the run has returned).
RUN = {"smoke": False, "written": []}


def record_fields(path, **fields):
    """Set top-level `fields` of the results.json at `path` (e.g. smoke, export)."""
    with open(path) as f:
        results = json.load(f)
    results.update(fields)
    with open(path, "w") as f:
        json.dump(results, f, indent=2, sort_keys=True, default=str)
    return results


def finish(cfg, workdir, dataset, metrics, chance, timing, notes=()):
    """results.json (with `smoke`, and `export` null until an export is written), then the
    table, in the units tfembed.reports.tables declares."""
    if not is_chief():
        return {"metrics": metrics}
    from tfembed.reports import tables

    res = results_lib.write_results(workdir, cfg["recipe"], dataset.name, cfg["protocol"],
                                    metrics, chance, flatten(cfg), timing, notes)
    res.update(smoke=bool(RUN["smoke"]), export=None)
    path = os.path.join(workdir, "results.json")
    record_fields(path, smoke=res["smoke"], export=None)
    RUN["written"].append(path)
    print(tables.format_results(res))
    return res


def run_plots(workdir, results, plots):
    """Run `plots` [(name, fn -> note or notes)] after results.json and the export exist; a
    failing plot becomes a warning. The notes are added to results.json; returns them."""
    if not is_chief():
        return []
    notes = []
    for name, plot in plots:
        try:
            out = plot()
            notes += [out] if isinstance(out, str) else list(out)
        except Exception as err:  # noqa: BLE001 - a figure is never worth the run
            notes.append(f"warning: {name} failed: {type(err).__name__}: {err}")
            print(notes[-1], file=sys.stderr)
            if "matplotlib.pyplot" in sys.modules:
                sys.modules["matplotlib.pyplot"].close("all")
    if notes and os.path.exists(os.path.join(workdir, "results.json")):
        results_lib.add_notes(workdir, notes)
        results.setdefault("notes", []).extend(notes)
    return notes


def _display_images(dataset, rows):
    """row -> pixels for a figure, or a note why there are none. A features model still has
    its pictures when the data set lists image files that exist."""
    from tfembed.data import pipeline

    if dataset.images is None and dataset.image_paths is None:
        return None, "the data set has no images, only features"
    if dataset.images is None:
        missing = [dataset.image_paths[r] for r in rows if not os.path.exists(dataset.image_paths[r])]
        if missing:
            return None, f"{len(missing)} image file(s) missing, e.g. {missing[0]}"
    size = None if dataset.features is None else (128, 128)
    # With a size, image_source reads the images even when the data set has features.
    return pipeline.image_source(dataset, np.arange(dataset.num_images), size)[0], None


def plot_queries(model, text, load_image, dataset, rows, workdir, embed_split, n_queries=4, top=6):
    """PNG of a few description queries (whole) and their top retrieved images, each with its
    rank and score; a legend says green = the query's class, red = another
    (tfembed.reports.figures)."""
    show, why = _display_images(dataset, rows)
    if show is None:
        return [f"query plot skipped: {why}"]
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from tfembed.data.pipeline import image_batches
    from tfembed.reports import figures

    images, texts, text_labels, strings = embed_split(model, text, load_image, dataset, rows)
    n_queries, top = min(n_queries, len(texts)), min(top, len(rows))  # small test splits
    pick = np.random.default_rng(0).choice(len(texts), n_queries, replace=False)
    scores = np.asarray(model.score(images, texts[pick])).T
    results = []
    for q, query in enumerate(pick):
        best = np.argsort(-scores[q], kind="stable")[:top]
        pixels = next(iter(image_batches(show, rows[best], top, stage=None))).numpy()
        results.append([(pixels[j], float(scores[q, idx]),
                         bool(dataset.labels[rows[idx]] == text_labels[query]))
                        for j, idx in enumerate(best)])
    fig = figures.queries_figure([strings[query] for query in pick], results)
    path = os.path.join(workdir, "retrieval_queries.png")
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return [f"query plot: {path}"]
