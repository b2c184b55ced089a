"""The shared custom training loop: tf.distribute, checkpoints with exact resume, TensorBoard,
a Keras progress bar, periodic evaluation with best-checkpoint selection."""

import os
import time

import keras
import tensorflow as tf

from tfembed.training.strategy import is_chief


def make_optimizer(name, learning_rate, **options):
    optimizers = {"rmsprop": keras.optimizers.RMSprop, "adam": keras.optimizers.Adam,
                  "sgd": keras.optimizers.SGD, "adagrad": keras.optimizers.Adagrad}
    return optimizers[name](learning_rate=learning_rate, **options)


class Trainer:
    """Runs `steps` optimisation steps of `model.compute_batch_loss` under `strategy`.

    `dataset_fn(start_step)` must return a tf.data pipeline of global batches that starts at
    `start_step` (so a resumed run sees exactly the batches it had not yet seen). Checkpoints
    (model, optimizer, step) go to `<workdir>/checkpoints` every `checkpoint_every` steps.
    """

    def __init__(self, model, optimizer, strategy, workdir, steps, global_batch_size,
                 checkpoint_every=100, log_every=10, eval_every=0, eval_fn=None,
                 select_metric=None, verbose=1, xla_update=True):
        self.model, self.optimizer, self.strategy = model, optimizer, strategy
        self.workdir, self.steps, self.global_batch_size = workdir, steps, global_batch_size
        self.checkpoint_every, self.log_every = checkpoint_every, log_every
        self.eval_every, self.eval_fn, self.select_metric = eval_every, eval_fn, select_metric
        self.verbose = verbose and is_chief()
        self.xla_update = xla_update
        with strategy.scope():
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
            self.best = tf.Variable(float("-inf"), dtype=tf.float64, trainable=False)
            self.best_step = tf.Variable(-1, dtype=tf.int64, trainable=False)
            optimizer.build(model.trainable_variables)
        ckpt_dir = os.path.join(workdir, "checkpoints")
        if not is_chief():  # every worker must save; only the chief's copy is kept
            ckpt_dir = os.path.join(workdir, "worker_tmp", str(os.getpid()))
        self.checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, step=self.step,
                                              best=self.best, best_step=self.best_step)
        self.manager = tf.train.CheckpointManager(self.checkpoint, ckpt_dir, max_to_keep=2)
        self.best_path = os.path.join(workdir, "best.weights.h5")
        self.history = []

    def restore(self):
        """Resume from the latest checkpoint if there is one; returns the step reached."""
        if self.manager.latest_checkpoint:
            self.checkpoint.restore(self.manager.latest_checkpoint).assert_existing_objects_matched()
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
            return strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None)

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

    def _evaluate(self, step):
        metrics = self.eval_fn(self.model)
        self.history.append({"step": step, **metrics})
        if self.select_metric and metrics[self.select_metric] > self.best.numpy():
            self.best.assign(metrics[self.select_metric])
            self.best_step.assign(step)
            if is_chief():
                self.model.save_weights(self.best_path)
        return metrics

    def fit(self, dataset_fn):
        """Train to `self.steps`; returns a dict of timing figures."""
        start = self.restore()
        if start >= self.steps:
            return {"steps": start, "resumed_from": start, "train_seconds": 0.0}
        dist = self.strategy.experimental_distribute_dataset(dataset_fn(start))
        iterator, train_step = iter(dist), self._train_step_fn()
        writer = tf.summary.create_file_writer(os.path.join(self.workdir, "tensorboard"))
        bar = keras.utils.Progbar(self.steps, stateful_metrics=["loss"]) if self.verbose else None
        began, step = time.perf_counter(), start
        warm = None  # time after the first step: excludes tracing from the throughput
        while step < self.steps:
            loss = float(train_step(iterator))
            step += 1
            if warm is None:
                warm = time.perf_counter()
            if step % self.log_every == 0 or step == self.steps:
                with writer.as_default(step=step):
                    tf.summary.scalar("loss", loss)
                if bar:
                    bar.update(step, [("loss", loss)])
            if step % self.checkpoint_every == 0 or step == self.steps:
                self.manager.save(checkpoint_number=step)
            if self.eval_fn and self.eval_every and (step % self.eval_every == 0 or step == self.steps):
                with writer.as_default(step=step):
                    for key, value in self._evaluate(step).items():
                        tf.summary.scalar(f"val/{key}", value)
        end = time.perf_counter()
        seconds = end - began
        if self.select_metric and self.best_step.numpy() >= 0 and os.path.exists(self.best_path):
            self.model.load_weights(self.best_path)
        writer.flush()
        done = step - start
        return {"steps": step, "resumed_from": start, "train_seconds": round(seconds, 3),
                "first_step_seconds": round(warm - began, 3),
                "examples_per_second": round(
                    max(done - 1, 1) * self.global_batch_size / max(end - warm, 1e-9), 2),
                "best_step": int(self.best_step.numpy()), "eval_history": self.history}
