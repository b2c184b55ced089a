"""Checkpoint directories we can trust: the configuration they were made with, and a lookup of
the newest intact checkpoint that reads the files on disk instead of trusting the state file.

Resume rule: a run resumes a checkpoint directory only under the configuration recorded in
`<checkpoints>/config.json`, except for the keys in RESUME_MAY_DIFFER. Those change how long
training runs (train.steps: raise it to train longer), how often it logs, saves or evaluates,
or what happens after training (export, plots, decoding, the test split, same-run baselines,
the protocol label); they never change the model's variables, the training data or the order
of its batches.
Anything else (model sizes, text encoder, data source or features, learning rate, seed, ...)
would resume weights that do not fit the model, or silently mix two experiments: an error.
A directory without a recorded configuration (older code), or with an unreadable record,
resumes with a warning (and is recorded from then on); so does a record that lacks keys added
to the code since (their current values are assumed, and named in the warning).
"""

import contextlib
import fnmatch
import json
import os
import re
import sys

from tfembed.errors import CheckpointError, ConfigError

CONFIG_FILE = "config.json"
RESUME_MAY_DIFFER = (
    "train.steps", "train.checkpoint_every", "train.log_every", "train.eval_every",
    "train.eval_images", "train.replicas", "export.*", "plot", "decode.*", "data.splits.test",
    "data.splits.test_seen", "evals",
    "baselines", "protocol", "notes", "notes.*", "table_notes", "paper", "paper.*")


def _flat(cfg):
    from tfembed.config import flatten
    # Through JSON so a recorded config and a live one compare alike (tuples -> lists, ...).
    return json.loads(json.dumps(flatten(cfg), default=str))


class _Absent:
    """A key one of the two configurations lacks (printed as such in the differences)."""

    def __repr__(self):
        return "(absent)"

    def __eq__(self, other):
        return isinstance(other, _Absent)


def _may_differ(key):
    return any(fnmatch.fnmatchcase(key, pattern) for pattern in RESUME_MAY_DIFFER)


def config_differences(recorded, cfg):
    """Keys (not in RESUME_MAY_DIFFER) whose values differ: [(key, recorded, now)]."""
    from tfembed.config import upgrade  # a record of an older shape compares at the new keys
    old, new = _flat(upgrade(recorded)), _flat(cfg)
    missing = _Absent()
    return [(k, old.get(k, missing), new.get(k, missing)) for k in sorted(set(old) | set(new))
            if not _may_differ(k) and old.get(k, missing) != new.get(k, missing)]


def has_checkpoints(ckpt_dir):
    return bool(list_checkpoints(ckpt_dir))


def check_config(cfg, ckpt_dir, warn=True):
    """Raise ConfigError if `ckpt_dir` holds checkpoints made under a different configuration
    (see the module docstring); warn (if `warn`) when it has checkpoints but no record."""
    if cfg is None or not has_checkpoints(ckpt_dir):
        return
    path = os.path.join(ckpt_dir, CONFIG_FILE)
    try:
        with open(path) as f:
            recorded = json.load(f)["config"]
    except FileNotFoundError:
        if warn:
            print(f"warning: {ckpt_dir} has checkpoints but no recorded configuration (made by "
                  f"an older version); resuming them unchecked", file=sys.stderr)
        return
    except (OSError, ValueError, KeyError, TypeError) as err:  # as item 5: never fatal
        if warn:
            print(f"warning: {path}: unreadable record of the checkpoints' configuration "
                  f"({err}); resuming them unchecked", file=sys.stderr)
        return
    diffs = config_differences(recorded, cfg)
    # A key the record lacks was added to the code after these checkpoints were made; new
    # keys default to the old behaviour, so say what is assumed instead of refusing.
    added = [(k, b) for k, a, b in diffs if isinstance(a, _Absent)]
    diffs = [d for d in diffs if not isinstance(d[1], _Absent)]
    if added and warn:
        listed = ", ".join(f"{k}={b!r}" for k, b in added[:12])
        print(f"warning: {path} predates the configuration key(s) {listed}; resuming on the "
              f"assumption that these values are how the checkpoints were made", file=sys.stderr)
    if diffs:
        listed = "; ".join(f"{k}: {a!r} -> {b!r}" for k, a, b in diffs[:12])
        more = f" (+{len(diffs) - 12} more)" if len(diffs) > 12 else ""
        raise ConfigError(
            f"{os.path.dirname(os.path.abspath(ckpt_dir))} holds checkpoints of a different "
            f"configuration ({path}); differing keys: {listed}{more}. Use another --workdir, or "
            f"the recorded values to resume that run")


def record_config(cfg, ckpt_dir):
    """Write the configuration beside the checkpoints (read back by check_config)."""
    os.makedirs(ckpt_dir, exist_ok=True)
    tmp = os.path.join(ckpt_dir, CONFIG_FILE + ".tmp")
    with open(tmp, "w") as f:
        json.dump({"config": cfg}, f, indent=2, sort_keys=True, default=str)
    os.replace(tmp, os.path.join(ckpt_dir, CONFIG_FILE))


def list_checkpoints(ckpt_dir):
    """[(number, prefix)] of the `ckpt-N.index` files on disk, newest first."""
    if not os.path.isdir(ckpt_dir):
        return []
    found = []
    for name in os.listdir(ckpt_dir):
        match = re.fullmatch(r"ckpt-(\d+)\.index", name)
        if match:
            found.append((int(match.group(1)), os.path.join(ckpt_dir, name[:-len(".index")])))
    return sorted(found, reverse=True)


def checkpoint_problem(prefix):
    """None if the checkpoint's index and every tensor of its data files read back (the bundle
    reader checks each tensor's checksum), else a message naming the bad file."""
    import tensorflow as tf

    index = prefix + ".index"
    try:
        reader = tf.train.load_checkpoint(prefix)
    except Exception as err:  # noqa: BLE001 - TF raises several types for a broken table
        return f"{index}: {_short(err)}"
    try:
        for key in reader.get_variable_to_shape_map():
            reader.get_tensor(key)
    except Exception as err:  # noqa: BLE001 - a truncated shard gives IndexError, not OpError
        shards = sorted(n for n in os.listdir(os.path.dirname(prefix) or ".")
                        if n.startswith(os.path.basename(prefix) + ".data-"))
        files = ", ".join(os.path.join(os.path.dirname(prefix), n) for n in shards) or \
            f"{prefix}.data-* (missing)"
        return f"{files}: {_short(err)}"
    return None


@contextlib.contextmanager
def quiet_tf_logs():
    """Silence TensorFlow's Python warnings (state-file ParseError, deprecations) for a block."""
    import tensorflow as tf

    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        yield
    finally:
        logger.setLevel(level)


def _short(err):
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:200]


def state_problem(ckpt_dir):
    """A message if the `checkpoint` state file exists but cannot be read, else None."""
    import tensorflow as tf

    path = os.path.join(ckpt_dir, "checkpoint")
    if not os.path.exists(path):
        return None
    try:
        with quiet_tf_logs():  # its ParseError warnings: we say it below, naming the file
            state = tf.train.get_checkpoint_state(ckpt_dir)
    except Exception as err:  # noqa: BLE001
        return f"{path}: unreadable ({_short(err)})"
    if state is None or not state.model_checkpoint_path:
        return f"{path}: unreadable checkpoint state file"
    return None


def newest_intact(ckpt_dir, log=None):
    """Prefix of the newest checkpoint whose files read back, or None if there are none at all.

    Problems (an unreadable state file, truncated checkpoints skipped) are reported through
    `log` (default: stderr). Raises CheckpointError if checkpoints exist but none is intact:
    starting from step 0 would overwrite them.
    """
    log = log or (lambda message: print(f"warning: {message}", file=sys.stderr))
    state = state_problem(ckpt_dir)
    if state:
        log(f"{state}; looking for checkpoints on disk instead")
    bad = []
    for _, prefix in list_checkpoints(ckpt_dir):
        problem = checkpoint_problem(prefix)
        if problem is None:
            if bad:
                log(f"skipping unreadable checkpoint(s): {'; '.join(bad)}; resuming from {prefix}")
            return prefix
        bad.append(problem)
    if bad:
        raise CheckpointError(f"no intact checkpoint in {ckpt_dir}: {'; '.join(bad)}. Move the "
                              f"directory away to start afresh")
    return None


def repair_state(ckpt_dir, prefix):
    """Point the state file at `prefix` (listing the checkpoints up to it), so that the
    CheckpointManager rotates real files and saves past the bad ones, never over `prefix`."""
    import tensorflow as tf

    number = int(prefix.rsplit("-", 1)[1])
    keep = [p for n, p in sorted(list_checkpoints(ckpt_dir)) if n <= number]
    with quiet_tf_logs():  # deprecated for users of CheckpointManager; we repair its file
        tf.compat.v1.train.update_checkpoint_state(ckpt_dir, prefix,
                                                   all_model_checkpoint_paths=keep)
