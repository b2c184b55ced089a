"""Model configuration: command-line flags or TF Serving's ModelServerConfig file.

The file is the same text proto tensorflow_model_server reads, e.g.::

    model_config_list {
      config {
        name: "tfembed"  base_path: "/models/tfembed"  model_platform: "tensorflow"
        model_version_policy { specific { versions: 1  versions: 2 } }
        version_labels { key: "stable" value: 1 }
      }
    }
"""

import dataclasses
import os
import re

from tfembed.errors import ConfigError


@dataclasses.dataclass
class Limits:
    """Per-request limits; defaults suit embedding queries, not bulk jobs."""

    max_batch_size: int = 256
    max_request_bytes: int = 64 << 20
    max_string_bytes: int = 64 << 10  # one text
    max_image_bytes: int = 16 << 20  # one encoded image
    max_image_pixels: int = 40_000_000  # width * height from the image header
    max_elements: int = 1 << 24  # any one tensor
    max_classes: int = 4096  # class_texts per classify request
    max_json_values: int = 1 << 21  # REST: JSON values in one body, counted before parsing


@dataclasses.dataclass
class ModelConfig:
    name: str
    base_path: str
    policy: str = "latest"  # "latest" | "all" | "specific"
    num_versions: int = 1  # for "latest"
    versions: tuple = ()  # for "specific"
    labels: dict = dataclasses.field(default_factory=dict)  # label -> version


def from_flags(model_name, model_base_path):
    if not model_base_path:
        raise ConfigError("give --model_base_path (with --model_name) or --model_config_file")
    return [ModelConfig(model_name or "default", os.path.abspath(model_base_path))]


def parse_config_file(path):
    """ModelServerConfig text proto -> [ModelConfig]; ConfigError when invalid."""
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    try:
        with open(path, encoding="utf-8") as f:
            proto = text_format.Parse(f.read(), model_server_config_pb2.ModelServerConfig())
    except (OSError, text_format.ParseError) as err:
        raise ConfigError(f"--model_config_file {path}: {err}") from None
    if proto.WhichOneof("config") != "model_config_list":
        raise ConfigError(f"--model_config_file {path}: expected model_config_list")
    configs, names = [], set()
    for i, entry in enumerate(proto.model_config_list.config):
        where = f"--model_config_file {path}: config {i}"
        if not entry.name or not entry.base_path:
            raise ConfigError(f"{where}: name and base_path are required")
        if entry.name in names:
            raise ConfigError(f"{where}: duplicate model name {entry.name!r}")
        if entry.model_platform not in ("", "tensorflow"):
            raise ConfigError(f"{where}: model_platform {entry.model_platform!r} is not supported")
        names.add(entry.name)
        config = ModelConfig(entry.name, os.path.abspath(entry.base_path),
                             labels=dict(entry.version_labels))
        choice = entry.model_version_policy.WhichOneof("policy_choice")
        if choice == "all":
            config.policy = "all"
        elif choice == "specific":
            config.policy = "specific"
            config.versions = tuple(sorted(entry.model_version_policy.specific.versions))
            if not config.versions:
                raise ConfigError(f"{where}: specific policy lists no versions")
        elif choice == "latest":
            config.num_versions = entry.model_version_policy.latest.num_versions or 1
        configs.append(config)
    if not configs:
        raise ConfigError(f"--model_config_file {path}: no models configured")
    return configs


def parse_batching_parameters(path):
    """The fields we honour from TF Serving's BatchingParameters text proto."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as err:
        raise ConfigError(f"--batching_parameters_file {path}: {err}") from None
    out = {}
    for key in ("max_batch_size", "batch_timeout_micros"):
        match = re.search(key + r"\s*\{\s*value\s*:\s*(\d+)\s*\}", text)
        if match:
            out[key] = int(match.group(1))
    return out
