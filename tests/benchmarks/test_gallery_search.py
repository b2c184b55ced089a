"""benchmarks/gallery_search.py runs end to end on a tiny gallery and writes the contract JSON."""

import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_gallery_search_small_run(tmp_path):
    pytest.importorskip("faiss")
    pytest.importorskip("hnswlib")
    out = tmp_path / "gs.json"
    subprocess.run([sys.executable, os.path.join(REPO, "benchmarks", "gallery_search.py"),
                    "--sizes", "600", "--dim", "16", "--glove-size", "0", "--out", str(out)],
                   check=True, capture_output=True, text=True, timeout=300,
                   env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    result = json.loads(out.read_text())
    assert result["benchmark"] == "gallery_search" and not result["quick"]
    by_data = {r["data"]: r for r in result["results"]}
    assert set(by_data) == {"manifold", "uniform"}
    manifold = by_data["manifold"]
    assert manifold["items"] == 600 and manifold["brute_force_tf"]["recall_at_10"] == 1.0
    for name in ("faiss_hnsw", "faiss_ivf", "hnswlib"):
        sweep = manifold[name]["sweep"]
        assert all(0.0 <= s["recall_at_10"] <= 1.0 for s in sweep)
        assert max(s["recall_at_10"] for s in sweep) >= 0.95  # a 600-item graph is near exact
    figures = [r["figure"] for r in result["summary"]]
    assert any("faiss_hnsw ms/query batch 1" in f for f in figures)
