"""Report generators over results.json files."""
