"""Moved to tfembed.evaluators.gbu (kept for label_embedding's import)."""
from tfembed.evaluators.gbu import class_top1, gbu_metrics, random_hubness  # noqa: F401
