"""The shared custom training loop: tf.distribute, checkpoints with exact resume, TensorBoard,
a Keras progress bar, periodic evaluation with best-checkpoint selection; a non-finite loss or
weights stop training before they reach a checkpoint."""

import os
import time

import keras
import tensorflow as tf

from tfembed.errors import CheckpointError, ConfigError, TrainingError
from tfembed.training import checkpoints
from tfembed.training.strategy import is_chief

# train.optimizer -> class (the choices of train.optimizer, see tfembed.config.CHOICES).
OPTIMIZERS = {"rmsprop": keras.optimizers.RMSprop, "adam": keras.optimizers.Adam,
              "sgd": keras.optimizers.SGD, "adagrad": keras.optimizers.Adagrad}


def make_optimizer(name, learning_rate, **options):
    if name not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer {name!r}; valid: {', '.join(sorted(OPTIMIZERS))}")
    return OPTIMIZERS[name](learning_rate=learning_rate, **options)


class Trainer:
    """Runs `steps` optimisation steps of `model.compute_batch_loss` under `strategy`.

    `dataset_fn(start_step)` must return a tf.data pipeline of global batches that starts at
    `start_step` (so a resumed run sees exactly the batches it had not yet seen). Checkpoints
    (model, optimizer, step) go to `<workdir>/checkpoints` every `checkpoint_every` steps, with
    `config` (the run's configuration) recorded beside them: resuming under a different one is
    an error (tfembed.training.checkpoints). Resuming takes the newest intact checkpoint.

    The loss is watched on the device (no host sync per step) and read at log, checkpoint and
    evaluation steps: a non-finite loss stops training there with a TrainingError, before any
    checkpoint of it is written; weights are checked for finiteness before every save.
    """

    def __init__(self, model, optimizer, strategy, workdir, steps, global_batch_size,
                 checkpoint_every=100, log_every=10, eval_every=0, eval_fn=None,
                 select_metric=None, verbose=1, xla_update=True, config=None):
        self.model, self.optimizer, self.strategy = model, optimizer, strategy
        self.workdir, self.steps, self.global_batch_size = workdir, steps, global_batch_size
        self.checkpoint_every, self.log_every = checkpoint_every, log_every
        self.eval_every, self.eval_fn, self.select_metric = eval_every, eval_fn, select_metric
        self.verbose = verbose and is_chief()
        self.xla_update, self.config = xla_update, config
        with strategy.scope():
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
            self.best = tf.Variable(float("-inf"), dtype=tf.float64, trainable=False)
            self.best_step = tf.Variable(-1, dtype=tf.int64, trainable=False)
            optimizer.build(model.trainable_variables)
            # Not checkpointed: the first step with a non-finite loss, the last finite loss.
            self.bad_step = tf.Variable(-1, dtype=tf.int64, trainable=False, name="bad_step")
            self.last_loss = tf.Variable(float("nan"), dtype=tf.float64, trainable=False,
                                         name="last_finite_loss")
        ckpt_dir = os.path.join(workdir, "checkpoints")
        if not is_chief():  # every worker must save; only the chief's copy is kept
            ckpt_dir = os.path.join(workdir, "worker_tmp", str(os.getpid()))
        self.checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, step=self.step,
                                              best=self.best, best_step=self.best_step)
        self.ckpt_dir = ckpt_dir
        self.manager = self._manager()
        self.best_path = os.path.join(workdir, "best.weights.h5")
        self.history, self._start = [], 0

    def _manager(self):
        with checkpoints.quiet_tf_logs():  # an unreadable state file: restore() says so
            return tf.train.CheckpointManager(self.checkpoint, self.ckpt_dir, max_to_keep=2)

    def restore(self):
        """Resume from the newest intact checkpoint if there is one; returns the step reached.

        A different recorded configuration is a ConfigError; an unreadable state file or
        truncated checkpoints are skipped with a warning naming the file (never restarting
        from step 0 over intact checkpoints)."""
        checkpoints.check_config(self.config, self.ckpt_dir)
        prefix = checkpoints.newest_intact(self.ckpt_dir)
        if prefix is not None:
            latest = self.manager.latest_checkpoint
            if latest is None or os.path.abspath(latest) != os.path.abspath(prefix):
                if is_chief():  # so the manager rotates real files and saves past bad ones
                    checkpoints.repair_state(self.ckpt_dir, prefix)
                self.manager = self._manager()
            try:
                self.checkpoint.restore(prefix).assert_existing_objects_matched()
            except (ValueError, AssertionError) as err:
                raise CheckpointError(
                    f"{prefix} does not fit this model ({str(err).strip()[:300]}); it was made "
                    f"under another configuration or by an older tfembed (before the one "
                    f"JointEmbedding model): use another --workdir") from None
        if self.config is not None and is_chief():
            checkpoints.record_config(self.config, self.ckpt_dir)
        return int(self.step.numpy())

    def _train_step_fn(self):
        model, optimizer, strategy = self.model, self.optimizer, self.strategy
        apply_update = self._update_fn()

        def replica_step(batch):
            with tf.GradientTape() as tape:
                loss = model.compute_batch_loss(batch, training=True)
            variables = model.trainable_variables
            grads = tape.gradient(loss, variables)
            apply_update(grads, variables)
            return loss

        @tf.function
        def train_step(iterator):
            loss = strategy.run(replica_step, args=(next(iterator),))
            self.step.assign_add(1)
            loss = strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None)
            # Remember the first non-finite step on the device; fit() reads it at boundaries.
            finite, first = tf.math.is_finite(loss), self.bad_step < 0
            self.last_loss.assign(tf.where(finite & first, tf.cast(loss, tf.float64),
                                           self.last_loss))
            self.bad_step.assign(tf.where(~finite & first, self.step, self.bad_step))
            return loss

        return train_step

    def _update_fn(self):
        """The optimizer update, XLA-compiled on one replica: the element-wise update of every
        weight is memory-bound and, run op by op, costs as much as the forward and backward pass
        of a fixed-feature model (benchmarks/train_step.py). Not with several replicas (the
        update all-reduces gradients) nor with sparse gradients (embedding lookups)."""
        optimizer, variables = self.optimizer, self.model.trainable_variables
        compiled = tf.function(lambda grads: optimizer.apply(grads, variables), jit_compile=True)

        def apply_update(grads, variables):
            usable = all(g is not None and not isinstance(g, tf.IndexedSlices) for g in grads)
            if self.xla_update and usable and self.strategy.num_replicas_in_sync == 1:
                compiled(list(grads))
            else:
                optimizer.apply_gradients((g, v) for g, v in zip(grads, variables) if g is not None)
        return apply_update

    def _check_finite(self, step):
        bad = int(self.bad_step.numpy())
        if bad < 0:
            return
        if bad > self._start + 1:
            last = f"the last finite loss was {float(self.last_loss.numpy()):.6g} at step {bad - 1}"
        else:
            last = f"the first step of this run (from step {self._start}) was already non-finite"
        raise TrainingError(self._stop_message(f"non-finite loss at step {bad}; {last}", step))

    def _stop_message(self, what, step):
        lr = getattr(self.optimizer, "learning_rate", None)
        lr_text = f" at learning rate {float(lr):g} (try a lower train.learning_rate)" \
            if lr is not None else ""
        kept = self.manager.latest_checkpoint
        kept = f"the last checkpoint is kept: {kept}" if kept else "no checkpoint was written"
        return f"{what}{lr_text}. Training stopped at step {step} without saving; {kept}"

    def _save(self, step):
        """Save a checkpoint, but never of non-finite weights or optimizer state."""
        if not bool(self._all_finite()):
            raise TrainingError(self._stop_message(
                f"non-finite weights or optimizer state after step {step} (its loss was finite)",
                step))
        self.manager.save(checkpoint_number=step)

    @tf.function
    def _all_finite(self):
        values = [tf.convert_to_tensor(v) for v in self.model.variables + self.optimizer.variables]
        return tf.reduce_all([tf.reduce_all(tf.math.is_finite(v)) for v in values
                              if v.dtype.is_floating])

    def _evaluate(self, step):
        metrics = self.eval_fn(self.model)
        self.history.append({"step": step, **metrics})
        if self.select_metric and metrics[self.select_metric] > self.best.numpy():
            self.best.assign(metrics[self.select_metric])
            self.best_step.assign(step)
            if is_chief():
                self.model.save_weights(self.best_path)
        return metrics

    def _load_best(self):
        """Load the best-on-val weights when a metric selects them; returns their step."""
        if self.select_metric and self.best_step.numpy() >= 0 and os.path.exists(self.best_path):
            self.model.load_weights(self.best_path)
            return int(self.best_step.numpy())
        return None

    def fit(self, dataset_fn):
        """Train to `self.steps`; returns a dict of timing figures."""
        start = self.restore()
        if start >= self.steps:  # finished: evaluate what a full run would have evaluated
            best = self._load_best()
            return {"steps": start, "resumed_from": start, "train_seconds": 0.0,
                    **({"best_step": best} if best is not None else {})}
        dist = self.strategy.experimental_distribute_dataset(dataset_fn(start))
        iterator, train_step = iter(dist), self._train_step_fn()
        writer = tf.summary.create_file_writer(os.path.join(self.workdir, "tensorboard"))
        bar = keras.utils.Progbar(self.steps, stateful_metrics=["loss"]) if self.verbose else None
        began, step = time.perf_counter(), start
        warm = None  # time after the first step: excludes tracing from the throughput
        self._start = start
        while step < self.steps:
            loss = train_step(iterator)  # a tensor: read only at the boundaries below
            step += 1
            if warm is None:
                float(loss)
                warm = time.perf_counter()
            last = step == self.steps
            log = step % self.log_every == 0 or last
            save = step % self.checkpoint_every == 0 or last
            evaluate = self.eval_fn and self.eval_every and (step % self.eval_every == 0 or last)
            if log or save or evaluate:
                self._check_finite(step)
            if log:
                with writer.as_default(step=step):
                    tf.summary.scalar("loss", loss)
                if bar:
                    bar.update(step, [("loss", float(loss))])
            if save:
                self._save(step)
            if evaluate:
                with writer.as_default(step=step):
                    for key, value in self._evaluate(step).items():
                        tf.summary.scalar(f"val/{key}", value)
        end = time.perf_counter()
        seconds = end - began
        self._load_best()
        writer.flush()
        done = step - start
        return {"steps": step, "resumed_from": start, "train_seconds": round(seconds, 3),
                "first_step_seconds": round(warm - began, 3),
                "examples_per_second": round(
                    max(done - 1, 1) * self.global_batch_size / max(end - warm, 1e-9), 2),
                "best_step": int(self.best_step.numpy()), "eval_history": self.history}
