"""Cross-replica gathering: the loss and gradients under MirroredStrategy with 2 CPU replicas
equal the single-device ones on the same global batch (in-batch classes span replicas)."""

import subprocess
import sys
import textwrap


def test_mirrored_loss_and_gradients_match_single_device():
    script = textwrap.dedent("""
        import numpy as np, tensorflow as tf, keras
        from tfembed.training.strategy import make_strategy
        strategy = make_strategy("mirrored", 2)
        from tfembed.models import JointEmbedding

        def build():
            keras.utils.set_random_seed(0)
            i, t = keras.Input((6,)), keras.Input((4,))
            img = keras.Model(i, keras.layers.Dense(8)(keras.layers.Dense(5)(i)))
            txt = keras.Model(t, keras.layers.Dense(8)(t))
            return JointEmbedding(img, txt, task="ds_sje", task_options={"violation": "sum"})

        rng = np.random.default_rng(0)
        batch = {"image": rng.normal(size=(8, 6)).astype("float32"),
                 "text": rng.normal(size=(8, 4)).astype("float32"),
                 "image_id": np.array([0, 1, 2, 3, 0, 1, 2, 3])}
        single = build()
        with tf.GradientTape() as tape:
            loss1 = single.compute_batch_loss(batch)
        grads1 = tape.gradient(loss1, single.trainable_variables)
        with strategy.scope():
            dist = build()
        dist.set_weights(single.get_weights())
        ds = tf.data.Dataset.from_tensors(batch)
        it = iter(strategy.experimental_distribute_dataset(ds))

        @tf.function
        def step(b):
            def fn(x):
                with tf.GradientTape() as tape:
                    loss = dist.compute_batch_loss(x)
                g = tape.gradient(loss, dist.trainable_variables)
                ctx = tf.distribute.get_replica_context()
                return loss, [ctx.all_reduce("sum", gi) for gi in g]
            loss, g = strategy.run(fn, args=(b,))
            return strategy.reduce("sum", loss, None), [strategy.experimental_local_results(x)[0] for x in g]
        loss2, grads2 = step(next(it))
        assert strategy.num_replicas_in_sync == 2
        np.testing.assert_allclose(loss2.numpy(), loss1.numpy(), rtol=1e-5)
        for a, b in zip(grads1, grads2):
            np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-4, atol=1e-6)
        print("OK", float(loss1))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0 and "OK" in out.stdout, out.stderr[-3000:]
