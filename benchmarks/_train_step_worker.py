"""One train-step measurement process (started by benchmarks/train_step.py; a tf.distribute
strategy must be chosen before TensorFlow initialises, hence one process per configuration).

    python benchmarks/_train_step_worker.py --recipe NAME --strategy default|mirrored
        --batch-sizes recipe,256 [--eager] [--breakdown] [--seconds S] --out JSON -- RECIPE ARGS...

The recipe builds its model and input pipeline exactly as in a real run; the benchmark stops
it where it hands them to the trainer (tfembed.experiments.common.train), then times the
library's compiled step (Trainer's tf.function over the distributed tf.data iterator).
"""

import argparse
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import _train_step_timing as timing  # noqa: E402

MAX_STEPS, MAX_ROWS = 150, 40000  # rows = steps x batch held by the index plan
WARMUP = timing.WARMUP


class _Captured(Exception):
    def __init__(self, cfg, model, strategy, dataset_fn):
        super().__init__("captured")
        self.cfg, self.model, self.strategy, self.dataset_fn = cfg, model, strategy, dataset_fn


def _capture(cfg, model, strategy, workdir, dataset_fn, eval_fn=None):
    raise _Captured(cfg, model, strategy, dataset_fn)


def build(recipe, recipe_argv, batch, strategy, workdir):
    """The recipe's captured (cfg, model, strategy, dataset_fn) at global batch `batch`
    (None: the recipe's own) with an index plan of a few hundred steps at most."""
    import keras
    from tfembed import recipe as recipe_lib
    from tfembed.experiments import common

    module = recipe_lib.load_recipe(recipe)
    resolve = lambda argv: recipe_lib.resolve_config(
        module.get_config, recipe_lib.build_parser(recipe, "").parse_args(argv))
    batch = batch or resolve(recipe_argv)["train"]["batch_size"]
    steps = max(2 * WARMUP + 4, min(MAX_STEPS, MAX_ROWS // batch))
    cfg = resolve(recipe_argv + ["--set", f"train.batch_size={batch}",
                                 "--set", f"train.steps={steps}"])
    keras.utils.set_random_seed(cfg["seed"])
    real_train, common.train = common.train, _capture
    try:
        module.run(cfg, workdir, strategy, export=False)
    except _Captured as got:
        return got
    finally:
        common.train = real_train
    raise RuntimeError(f"recipe {recipe} finished without reaching the trainer")


def measure(got, batch, seconds, eager, workdir, parts=False, xla_update=True):
    from tfembed.training.trainer import Trainer, make_optimizer

    t, strategy = got.cfg["train"], got.strategy
    with strategy.scope():
        optimizer = make_optimizer(t["optimizer"], t["learning_rate"])
    trainer = Trainer(got.model, optimizer, strategy, workdir, t["steps"], batch,
                      checkpoint_every=10 ** 9, verbose=0, xla_update=xla_update)
    step = trainer._train_step_fn()  # the library's compiled step, as Trainer.fit runs it
    iterator = iter(strategy.experimental_distribute_dataset(got.dataset_fn(0)))
    began = time.perf_counter()
    float(step(iterator))
    out = {"batch_size": batch, "trace_seconds": round(time.perf_counter() - began, 3)}
    for _ in range(WARMUP):
        float(step(iterator))
    left = t["steps"] - 1 - WARMUP
    best, mean, n = timing.timed_steps(lambda: step(iterator).numpy(), seconds, left)
    out.update(steps_timed=n, step_ms_best=round(best * 1e3, 3), step_ms_mean=round(mean * 1e3, 3),
               examples_per_second=round(batch / best, 1))
    pipeline = iter(got.dataset_fn(0))
    best_in, _, _ = timing.timed_steps(lambda: next(pipeline), seconds / 3, t["steps"])
    out["pipeline_only_examples_per_second"] = round(batch / best_in, 1)
    if strategy.num_replicas_in_sync == 1:
        out["flops_per_step"], out["matmul_ops_uncounted"] = timing.graph_flops(step, iterator)
        out["dense_kernel_macs_per_example"] = int(sum(
            v.shape[0] * v.shape[1] for v in got.model.trainable_variables
            if len(v.shape) == 2 and v.path.endswith("kernel")))
    if parts and strategy.num_replicas_in_sync == 1:
        out["breakdown_ms"] = timing.breakdown(got, optimizer, seconds)
    if eager:  # same model and batches, one Python-driven eager step per numpy batch
        e_best, e_n = timing.eager_step_seconds(got.model, optimizer, got.dataset_fn, seconds)
        out["eager"] = {"steps_timed": e_n, "step_ms_best": round(e_best * 1e3, 3),
                        "examples_per_second": round(batch / e_best, 1)}
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipe", required=True)
    parser.add_argument("--strategy", default="default", choices=["default", "mirrored"])
    parser.add_argument("--batch-sizes", required=True,
                        help="comma-separated global batch sizes; 'recipe' = the recipe's own")
    parser.add_argument("--eager", action="store_true", help="also time a naive eager loop")
    parser.add_argument("--breakdown", action="store_true",
                        help="also time the parts of the step at the first batch size")
    parser.add_argument("--seconds", type=float, default=3.0, help="timed seconds per figure")
    parser.add_argument("--op-by-op-update", action="store_true",
                        help="run the optimizer update op by op (Trainer xla_update=False)")
    parser.add_argument("--out", required=True)
    parser.add_argument("recipe_args", nargs="*")
    args = parser.parse_args()
    from tfembed.training.strategy import make_strategy
    strategy = make_strategy(args.strategy, 2)  # before TF initialises its devices
    import tensorflow as tf
    tf.get_logger().setLevel("ERROR")
    rows = []
    for i, size in enumerate(args.batch_sizes.split(",")):
        with tempfile.TemporaryDirectory() as workdir:
            got = build(args.recipe, args.recipe_args, None if size == "recipe" else int(size),
                        strategy, workdir)
            batch = got.cfg["train"]["batch_size"]
            rows.append(dict(measure(got, batch, args.seconds, args.eager and i == 0, workdir,
                                     args.breakdown and i == 0, not args.op_by_op_update),
                             recipe_batch=size == "recipe"))
        print(json.dumps(rows[-1]), flush=True)
    with open(args.out, "w") as f:
        json.dump({"recipe": args.recipe, "strategy": args.strategy,
                   "replicas": strategy.num_replicas_in_sync, "tensorflow": tf.__version__,
                   "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
