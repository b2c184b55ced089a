"""Reusable layers and graph functions (core TF ops only, so they export)."""
