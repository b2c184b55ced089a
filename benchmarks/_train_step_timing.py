"""Timing pieces of the train-step benchmark: blocks of timed calls, FLOPs counted on the
traced graph, the naive eager loop, and the parts of one step timed alone."""

import time

WARMUP = 3


def timed_steps(run_one, seconds, limit):
    """(best, mean, count): seconds per call over 3 blocks sized to take ~`seconds` in all,
    calling run_one at most `limit` times (the best block is the least disturbed by other
    processes on a shared machine)."""
    t = time.perf_counter()
    run_one()
    per = max(time.perf_counter() - t, 1e-4)
    block = int(max(1, min((limit - 1) // 3, seconds / 3 / per)))
    blocks = []
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(block):
            run_one()
        blocks.append((time.perf_counter() - t) / block)
    return min(blocks), sum(blocks) / 3, 3 * block


HEAVY_OPS = {"MatMul", "BatchMatMulV2", "BatchMatMulV3", "Conv2D", "Conv2DBackpropInput",
             "Conv2DBackpropFilter", "Conv1D", "Einsum"}


def graph_flops(step, iterator):
    """FLOPs of one step counted by the TF profiler on the traced graph, and how many
    matmul/conv ops it could not count (a dimension unknown until run time, e.g. the number
    of distinct classes in a batch)."""
    import tensorflow as tf

    opts = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    opts["output"] = "none"
    graph = step.get_concrete_function(iterator).graph
    flops = int(tf.compat.v1.profiler.profile(graph=graph, options=opts).total_float_ops)
    uncounted = sum(1 for op in graph.get_operations() if op.type in HEAVY_OPS and not all(
        t.shape.is_fully_defined() for t in list(op.inputs) + list(op.outputs)))
    return flops or None, uncounted


def eager_step_seconds(model, optimizer, dataset_fn, seconds, batches=20):
    """(best seconds per step, steps timed) of a naive loop: the step called eagerly from
    Python over numpy batches (the first `batches` of the same pipeline, cycled)."""
    import tensorflow as tf

    data = [tf.nest.map_structure(lambda x: x.numpy(), b) for b in dataset_fn(0).take(batches)]
    pos = [0]

    def eager_step():
        batch = data[pos[0] % len(data)]
        pos[0] += 1
        with tf.GradientTape() as tape:
            loss = model.compute_batch_loss(batch, training=True)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return float(loss)

    for _ in range(WARMUP):
        eager_step()
    best, _, n = timed_steps(eager_step, seconds, 10 ** 4)
    return best, n


def breakdown(got, optimizer, seconds):
    """ms of one step at this batch on a fixed in-memory batch (no tf.data), and of its parts
    alone: forward+backward, the optimizer update (as compiled, and fused by XLA), and
    fetching a batch through a tf.function."""
    import tensorflow as tf

    model, variables = got.model, got.model.trainable_variables
    batch, zeros = next(iter(got.dataset_fn(0))), [tf.zeros_like(v) for v in variables]

    @tf.function
    def forward_backward(b):
        with tf.GradientTape() as tape:
            loss = model.compute_batch_loss(b, training=True)
        return tape.gradient(loss, variables)

    @tf.function
    def step_on_fixed_batch(b):  # the whole step without tf.data: what the input side costs
        optimizer.apply_gradients(zip(forward_backward(b), variables))

    update = lambda: optimizer.apply_gradients(zip(zeros, variables))  # same work for any grads
    batches = iter(got.dataset_fn(0).repeat())
    fetch = tf.function(lambda i: tf.size(tf.nest.flatten(next(i))[0]))
    parts = {"step_on_a_fixed_batch": lambda: step_on_fixed_batch(batch),
             "forward_backward": lambda: forward_backward(batch),  # CPU calls are synchronous
             "optimizer_update": tf.function(update),
             "optimizer_update_xla": tf.function(update, jit_compile=True),
             "iterator_and_dispatch": lambda: fetch(batches)}
    out = {}
    for name, fn in parts.items():
        try:
            out[name] = round(timed_steps(fn, seconds / 4, 10 ** 4)[0] * 1e3, 3)
        except (tf.errors.OpError, ValueError, TypeError) as err:  # e.g. XLA cannot compile it
            out[name] = f"failed: {str(err).splitlines()[0][:200]}"
    return out
