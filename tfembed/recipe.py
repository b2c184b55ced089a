"""The command shape every recipe shares:

    python recipes/NAME.py [--data SOURCE] [--data-dir DIR] [--workdir DIR] [--smoke]
                           [--set key=value ...] [--strategy default|mirrored|multi_worker]
                           [--export] [--tune random|bayesian|hyperband [--max-trials N]]
                           [--retrain-best] [--verbose]

TensorFlow's C++ log lines are hidden unless --verbose is given (tfembed.quiet, applied when
the recipe imports tfembed, before TensorFlow). After the run, every results.json it wrote
records "smoke" and "export" (the version path written beside it, or null), and each run
bundle's test embeddings go to the Embedding Projector (tfembed.reports.projector).
"""

import argparse
import os
import sys
import time


RECIPES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "recipes")


def load_recipe(name, recipes_dir=RECIPES_DIR):
    """Import `recipes/<name>.py` of a source checkout as a module (recipes are scripts)."""
    import importlib.util

    path = os.path.join(recipes_dir, f"{name}.py")
    if not os.path.exists(path):
        from tfembed.errors import ConfigError
        raise ConfigError(f"no recipe {name!r} at {path}")
    spec = importlib.util.spec_from_file_location(f"tfembed_recipe_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_recipe(name, argv):
    """Run `recipes/<name>.py` with command-line arguments in this process; returns the exit code."""
    return main(load_recipe(name), argv)


def build_parser(name, doc):
    from tfembed.cli import HelpFormatter

    parser = argparse.ArgumentParser(prog=f"recipes/{name}.py", description=doc,
                                     formatter_class=HelpFormatter)
    parser.add_argument("--data", default=None, help="data source (default: the recipe's "
                        "embedded synthetic set)")
    parser.add_argument("--data-dir", default=None, help="root directory of a real data set")
    parser.add_argument("--workdir", default=None,
                        help=f"default: runs/{name} (with --smoke: runs/{name}-smoke)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: finishes in seconds")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override any configuration value, e.g. train.steps=100")
    parser.add_argument("--strategy", default="default",
                        choices=["default", "mirrored", "multi_worker"],
                        help="tf.distribute strategy (mirrored: 2 replicas, also on CPU)")
    parser.add_argument("--export", action="store_true", help="write a SavedModel version "
                        "under <workdir>/export/")
    parser.add_argument("--tune", choices=["random", "bayesian", "hyperband"], default=None,
                        help="hyper-parameter search on the validation split "
                        "(resumes <workdir>/tuner)")
    parser.add_argument("--max-trials", type=int, default=10, help="trials of --tune")
    parser.add_argument("--retrain-best", action="store_true", help="train the full recipe "
                        "with <workdir>/best_hyperparameters.json into <workdir>/best/")
    parser.add_argument("--show-config", action="store_true", help="print the config and exit")
    # Read by tfembed/__init__ before TensorFlow is imported (tfembed.quiet); listed for --help.
    parser.add_argument("--verbose", action="store_true", help="show TensorFlow's C++ log "
                        "lines (hidden by default)")
    return parser


def resolve_config(get_config, args):
    """The recipe's config with --data, --data-dir and --set applied, every key with declared
    choices checked (tfembed.config.CHOICES and the recipe module's own CHOICES, if any)."""
    from tfembed.cli import parse_overrides
    from tfembed.config import apply_overrides, check_choices

    kwargs = {"smoke": args.smoke}
    if args.data:
        kwargs["data"] = args.data
    cfg = get_config(**kwargs)
    if args.data_dir:
        cfg["data"]["root"] = args.data_dir
    overrides = parse_overrides(args.set)
    cfg = apply_overrides(cfg, overrides)
    check_choices(cfg, overrides, get_config.__globals__.get("CHOICES"))
    return cfg


def default_workdir(name, smoke=False):
    """runs/<name>, or runs/<name>-smoke: a smoke run never resumes into the real one."""
    return os.path.join("runs", f"{name}-smoke" if smoke else name)


def export_paths(results):
    """The export version paths a run's `run` returned: results["export"], or for runs of
    several parts (zhang2017: {(side, method): results}) each part's."""
    if not isinstance(results, dict):
        return []
    parts = [results] + [v for v in results.values() if isinstance(v, dict)]
    return [os.path.abspath(p["export"]) for p in parts if isinstance(p.get("export"), str)]


def after_run(workdir, results, started):
    """Each results.json the run wrote gets the export written beside it (RUN_DIR/export/N,
    else null); then the Embedding Projector files of every bundle the run wrote (a failure
    there is a warning: the run itself is done)."""
    from tfembed.experiments import common
    from tfembed.training.strategy import is_chief

    if not is_chief():
        return
    exports = export_paths(results)
    for path in common.RUN["written"]:
        prefix = os.path.join(os.path.dirname(os.path.abspath(path)), "export") + os.sep
        found = [e for e in exports if e.startswith(prefix)]
        if found and os.path.exists(path):
            common.record_fields(path, export=found[-1])
    from tfembed import progress
    from tfembed.reports import projector
    for run_dir in projector.bundle_dirs(workdir, since=started):
        try:
            with progress.stage(f"embedding projector ({run_dir})"):
                log_dir = projector.write(run_dir)
            print(f"embedding projector: tensorboard --logdir {log_dir}")
        except Exception as err:  # noqa: BLE001 - a view of the results, never the run
            print(f"warning: embedding projector of {run_dir} not written: "
                  f"{type(err).__name__}: {err}", file=sys.stderr)


def main(recipe, argv=None):
    """Parse the shared flags, build the strategy, run the experiment; exit code 0/2.

    `recipe` is the recipe's module (`sys.modules[__name__]` in recipes/NAME.py): its
    docstring, `get_config`, `run`, and optional CHOICES / search_space / TUNE_OBJECTIVE.
    """
    name = os.path.splitext(os.path.basename(recipe.__file__))[0]
    doc, get_config, run = recipe.__doc__, recipe.get_config, recipe.run
    args = build_parser(name, doc).parse_args(argv)
    from tfembed.errors import TfembedError
    try:
        cfg = resolve_config(get_config, args)
        if args.show_config:
            import json
            print(json.dumps(cfg, indent=2))
            return 0
        # The strategy must be chosen before TensorFlow touches its devices.
        from tfembed.training.strategy import make_strategy
        strategy = make_strategy(args.strategy, cfg["train"].get("replicas", 2))
        import keras
        keras.utils.set_random_seed(cfg["seed"])
        workdir = args.workdir or default_workdir(name, args.smoke)
        from tfembed.experiments import common
        common.RUN.update(smoke=args.smoke, written=[])
        if args.tune or args.retrain_best:
            from tfembed import tuning
            if args.tune:
                tuning.tune(recipe, cfg, run, workdir, strategy, args.tune, args.max_trials)
            if args.retrain_best:
                started = time.time()
                after_run(os.path.join(workdir, "best"), tuning.retrain_best(
                    recipe, cfg, run, workdir, strategy, args.export), started)
            return 0
        started = time.time()
        after_run(workdir, run(cfg, workdir, strategy, export=args.export), started)
        return 0
    except TfembedError as err:
        print(f"{name}: error: {err}", file=sys.stderr)
        return 2
