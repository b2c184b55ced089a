"""Evaluators: pure functions of embeddings (or an embedding model) and rows -> (metrics, chance)."""
