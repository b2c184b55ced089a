"""A toy model for the Trainer's fault-injection tests: loss = sum(w * x) / 4 over a batch of
4, its gradient scaled by the batch's `g`; so a batch decides at an exact step whether the loss
(x = NaN) or only the update (g = inf, the loss stays finite) goes non-finite."""

import numpy as np
import pytest


@pytest.fixture
def toy_trainer():
    """make(workdir, steps, x_at=None, g_at=None, config=None, **trainer_kwargs)
    -> (trainer, dataset_fn). `x_at` / `g_at` = {step: value} set x / g of that (1-based)
    step's batch."""
    import keras
    import tensorflow as tf

    from tfembed.training.trainer import Trainer

    class Toy(keras.Model):
        def __init__(self):
            super().__init__()
            self.w = self.add_weight(shape=(3,), initializer="ones", name="w")
            self.built = True  # its one weight exists: save_weights (best-on-val) may run

        def compute_batch_loss(self, batch, training=True):
            @tf.custom_gradient
            def scaled(w):
                return tf.identity(w), lambda dy: dy * tf.reduce_max(batch["g"])
            return tf.reduce_sum(scaled(self.w) * batch["x"]) / 4.0

    def make(workdir, steps, x_at=None, g_at=None, config=None, **kwargs):
        keras.utils.set_random_seed(0)
        model = Toy()
        x = np.random.default_rng(0).uniform(0.5, 1.0, size=(steps * 4, 3)).astype(np.float32)
        g = np.ones(steps * 4, np.float32)
        for array, at in ((x, x_at), (g, g_at)):
            for step, value in (at or {}).items():
                array[(step - 1) * 4:step * 4] = value

        def dataset_fn(start):
            return tf.data.Dataset.from_tensor_slices({"x": x[start * 4:], "g": g[start * 4:]}
                                                      ).batch(4)

        options = dict(checkpoint_every=2, log_every=2, verbose=0)
        options.update(kwargs, **({"config": config} if config is not None else {}))
        optimizer = keras.optimizers.SGD(learning_rate=options.pop("learning_rate", 0.01))
        trainer = Trainer(model, optimizer, tf.distribute.get_strategy(), str(workdir), steps, 4,
                          **options)
        return trainer, dataset_fn

    return make

