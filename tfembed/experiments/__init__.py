"""Experiment drivers: the shared train/evaluate/export flow behind each family of recipes."""
