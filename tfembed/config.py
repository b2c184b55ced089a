"""Nested configuration with dotted `--set key=value` overrides.

A recipe returns a plain nested dict; `apply_overrides` changes leaves by dotted path and
refuses unknown keys, so a typo in `--set` fails loudly instead of being ignored.
"""

import ast
import copy

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


def apply_overrides(config, overrides, open_sections=("data", "image.options")):
    """Return a copy of `config` with dotted-key overrides applied.

    Keys directly under `open_sections` may be new (data sources and image towers take
    their own options); everywhere else an unknown key is an error that lists the valid keys.
    """
    config = copy.deepcopy(config)
    for key, value in overrides.items():
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
