"""Fixtures of the API tests (the exports themselves are built in tests/api/exports.py)."""

from tests.api.exports import api, exported, image_file, servers  # noqa: F401
