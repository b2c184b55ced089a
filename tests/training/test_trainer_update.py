"""The XLA-compiled optimizer update of the single-replica train step gives the same weights as
the op-by-op update (it only changes how the element-wise update runs)."""

import numpy as np
import pytest


@pytest.mark.parametrize("optimizer_name", ["rmsprop", "adam"])
def test_xla_update_matches_op_by_op(tmp_path, optimizer_name):
    import keras
    import tensorflow as tf

    from tfembed.models import JointEmbedding
    from tfembed.training.trainer import Trainer, make_optimizer

    rng = np.random.default_rng(0)
    batches = [{"image": rng.normal(size=(8, 6)).astype("float32"),
                "text": rng.normal(size=(8, 4)).astype("float32"),
                "image_id": rng.integers(0, 4, size=8)} for _ in range(5)]

    def train(xla_update):
        keras.utils.set_random_seed(0)
        i, t = keras.Input((6,)), keras.Input((4,))
        model = JointEmbedding(keras.Model(i, keras.layers.Dense(8)(keras.layers.Dense(5)(i))),
                               keras.Model(t, keras.layers.Dense(8)(t)),
                               task_options={"violation": "sum"})
        trainer = Trainer(model, make_optimizer(optimizer_name, 0.01), tf.distribute.get_strategy(),
                          str(tmp_path / str(xla_update)), steps=5, global_batch_size=8,
                          verbose=0, xla_update=xla_update)
        step = trainer._train_step_fn()
        iterator = iter(tf.data.Dataset.from_tensor_slices(
            {k: np.stack([b[k] for b in batches]) for k in batches[0]}))
        losses = [float(step(iterator)) for _ in batches]
        return losses, model.get_weights()

    losses_xla, weights_xla = train(True)
    losses_ops, weights_ops = train(False)
    np.testing.assert_allclose(losses_xla, losses_ops, rtol=1e-4, atol=1e-5)
    assert losses_xla[0] != losses_xla[-1]  # it trained
    for a, b in zip(weights_xla, weights_ops):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
