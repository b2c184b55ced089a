"""Nested configuration with dotted `--set key=value` overrides.

A recipe returns a plain nested dict; `apply_overrides` changes leaves by dotted path and
refuses unknown keys, so a typo in `--set` fails loudly instead of being ignored.
`check_choices` refuses a value outside the declared choices of a key (CHOICES, plus a
recipe module's own CHOICES), before any work starts.
"""

import ast
import copy
import importlib

from tfembed.errors import ConfigError


def parse_value(text):
    """'0.1' -> 0.1, 'true' -> True, '[1,2]' -> [1, 2], 'none' -> None, else the string."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _coerce(key, value, old):
    """Keep the type of the default where the conversion is lossless (e.g. 1 -> 1.0)."""
    if old is None or value is None or isinstance(old, str) and not isinstance(value, str):
        return str(value) if isinstance(old, str) else value
    if isinstance(old, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"--set {key}: expected true/false, got {value!r}")
        return value
    if isinstance(old, float) and isinstance(value, int):
        return float(value)
    if isinstance(old, (list, tuple)) and isinstance(value, (list, tuple)):
        return type(old)(value)
    if type(old) is not type(value) and not (isinstance(old, int) and isinstance(value, int)):
        raise ConfigError(f"--set {key}: expected {type(old).__name__}, got {value!r}")
    return value


# Keys that moved when every recipe got one config shape (data.splits, model.task): the old
# spelling still works in --set and in recorded configs, with a note saying where it went.
MOVED = {"data.train_split": "data.splits.train", "data.val_split": "data.splits.val",
         "data.test_split": "data.splits.test", "data.gzsl_split": "data.splits.gzsl",
         "model.loss": "model.task", "model.loss_options": "model.task_options",
         # zhang2017 / devise: GBU roles were remapped in split_names (tfembed.evaluators.gbu)
         "split_names.trainval": "data.splits.train", "split_names.train": "data.splits.val_train",
         "split_names.val": "data.splits.val", "split_names.test_unseen": "data.splits.test",
         "split_names.test_seen": "data.splits.test_seen", "visual.train_split": "data.splits.train"}
RETIRED = ("split_names",)  # sections whose keys all moved: dropped from old configs when empty


def moved_key(key):
    """The current spelling of a dotted key (itself when it did not move)."""
    for old, new in MOVED.items():
        if key == old or key.startswith(old + "."):
            return new + key[len(old):]
    return key


def _pop(node, parts):
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    return node.pop(parts[-1]) if isinstance(node, dict) and parts[-1] in node else _MISSING


_MISSING = object()


def upgrade(config):
    """A copy of `config` with keys of an older shape moved to their current place (e.g. a
    run's recorded config.json from before data.splits)."""
    config = copy.deepcopy(config)
    for old, new in MOVED.items():
        value = _pop(config, old.split("."))
        if value is _MISSING:
            continue
        node = config
        for part in new.split(".")[:-1]:
            node = node.setdefault(part, {})
        node.setdefault(new.split(".")[-1], value)
    for section in RETIRED:
        if config.get(section) == {}:
            del config[section]
    return config


def apply_overrides(config, overrides, open_sections=("data", "image.options")):
    """Return a copy of `config` with dotted-key overrides applied.

    Keys directly under `open_sections` may be new (data sources and image towers take
    their own options); everywhere else an unknown key is an error that lists the valid keys.
    A key that moved (MOVED) is applied at its new place with a note on stderr.
    """
    config = copy.deepcopy(config)
    for key, value in overrides.items():
        if moved_key(key) != key:
            import sys
            print(f"note: --set {key} is now {moved_key(key)}", file=sys.stderr)
            key = moved_key(key)
        parts = key.split(".")
        node = config
        for depth, part in enumerate(parts[:-1]):
            if not isinstance(node.get(part), dict):
                raise ConfigError(f"--set {key}: unknown section {'.'.join(parts[:depth + 1])!r}; "
                                  f"valid: {', '.join(sorted(node))}")
            node = node[part]
        leaf = parts[-1]
        if leaf not in node:
            if ".".join(parts[:-1]) in open_sections:
                node[leaf] = value
                continue
            raise ConfigError(f"--set {key}: unknown key; valid keys here: {', '.join(sorted(node))}")
        if isinstance(node[leaf], dict):
            raise ConfigError(f"--set {key}: is a section, set one of {', '.join(sorted(node[leaf]))}")
        node[leaf] = _coerce(key, value, node[leaf])
    return config


def flatten(config, prefix=""):
    """{'a': {'b': 1}} -> {'a.b': 1} (for results.json and tuning)."""
    out = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _violations(cfg):  # Reed's structured joint losses know sum/max; the ranking losses top_k too
    sje = cfg.get("model", {}).get("task") in ("ds_sje", "da_sje")
    return ("sum", "max") if sje else ("sum", "max", "top_k")


# Keys the code dispatches on -> their valid values: "module:NAME" names the dispatch table
# itself (imported only when a config has the key), a tuple lists literal branches, a callable
# gets the whole config. A list-valued key (model.semantics) needs each item to be a choice.
CHOICES = {
    "train.optimizer": "tfembed.training.trainer:OPTIMIZERS",
    "data.source": "tfembed.data:SOURCES",
    "image.tower": "tfembed.towers.image:IMAGE_TOWERS",
    "image.projection": "tfembed.experiments.zero_shot_joint:IMAGE_PROJECTIONS",
    "image.pooling": ("rmac", "gem"),  # semantic_retrieval_parts.visual_encoder
    "image.regions": ("boxes", "grid"),  # image_sentence_parts
    "text.encoder": "tfembed.towers.text:TEXT_ENCODERS",
    "text.rnn_cell": "tfembed.towers.text:RNN_CELLS",
    "text.features": "tfembed.towers.text_towers:SENTENCE_FEATURES",
    "model.task": "tfembed.tasks:TASKS",
    "evals": "tfembed.evaluators:EVALUATORS",
    "model.scorer": "tfembed.scorers:SCORERS",
    "model.task_options.violation": _violations,
    "model.kind": ("alignment", "two_branch"),  # image_sentence_models
    "model.cell": "tfembed.towers.caption:CELLS",
    "model.semantics": "tfembed.experiments.semantic_inputs:MODALITIES",
    "model.settings": "tfembed.experiments.semantic_retrieval:SETTINGS",
    "model.primary": "tfembed.experiments.semantic_retrieval:SETTINGS",
    "baselines": "tfembed.baselines:BASELINES",
    "labels.source": ("classes", "terms"),  # label_embedding.run_wsabie
    "labels.missing": ("error", "zero"),  # label_embedding.class_vectors
}


def _valid(spec, cfg):
    if callable(spec):
        spec = spec(cfg)
    if isinstance(spec, str):
        module, name = spec.split(":")
        spec = getattr(importlib.import_module(module), name)
    return sorted(spec)


def check_choices(cfg, overrides=(), choices=None):
    """Raise ConfigError for a key of `cfg` whose value is not among its declared choices
    (CHOICES updated with `choices`), naming the key and listing the valid values; keys in
    `overrides` are reported as the `--set` that gave them."""
    declared = {**CHOICES, **(choices or {})}
    flat = flatten(cfg)
    for key in sorted(set(declared) & set(flat)):
        value = flat[key]
        if value is None:
            continue
        items = value if isinstance(value, (list, tuple)) else [value]
        valid = _valid(declared[key], cfg)
        bad = [v for v in items if not isinstance(v, str) or v not in valid]
        if bad:
            where = f"--set {key}={value}" if key in overrides else f"{key}={value!r}"
            raise ConfigError(f"{where}: unknown choice {bad[0]!r}; valid: {', '.join(valid)}")
