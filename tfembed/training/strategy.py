"""tf.distribute strategy selection: default, MirroredStrategy (also over logical CPU devices),
and MultiWorkerMirroredStrategy configured from TF_CONFIG."""

import json
import os

import tensorflow as tf

from tfembed.errors import ConfigError

STRATEGIES = ("default", "mirrored", "multi_worker")


def ensure_logical_cpus(count):
    """Split the CPU into `count` logical devices so MirroredStrategy has replicas on a CPU box.

    Must run before TensorFlow initialises its devices (i.e. before the first op).
    """
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
    except RuntimeError:
        have = len(tf.config.list_logical_devices("CPU"))
        if have < count:
            raise ConfigError(f"TensorFlow was initialised with {have} CPU device(s) before "
                              f"{count} logical CPUs could be configured; select the strategy "
                              f"before running any TensorFlow op") from None


def make_strategy(name="default", num_cpu_replicas=2):
    """Return a tf.distribute strategy by name (see STRATEGIES)."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        if tf.config.list_physical_devices("GPU"):
            return tf.distribute.MirroredStrategy()
        ensure_logical_cpus(num_cpu_replicas)
        devices = [d.name for d in tf.config.list_logical_devices("CPU")][:num_cpu_replicas]
        # NCCL is GPU-only; reduce on one device for CPU replicas.
        return tf.distribute.MirroredStrategy(
            devices, cross_device_ops=tf.distribute.ReductionToOneDevice())
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise ConfigError("--strategy multi_worker needs the TF_CONFIG environment variable "
                              "(cluster worker addresses and this task's index)")
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ConfigError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}")


def is_chief():
    """True for the process that writes results/exports (single process or worker 0)."""
    config = json.loads(os.environ.get("TF_CONFIG", "{}"))
    task = config.get("task", {})
    return task.get("type", "worker") in ("chief",) or (
        task.get("type", "worker") == "worker" and task.get("index", 0) == 0
        and "chief" not in config.get("cluster", {}))
