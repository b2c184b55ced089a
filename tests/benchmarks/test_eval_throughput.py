"""eval_throughput: each size's record, and the memory guard on the retrieval score matrix."""

import numpy as np

import eval_throughput


def test_zero_shot_record_times_every_part():
    z = eval_throughput.zero_shot(300, np.random.default_rng(0))
    assert z["n_images"] == 300 and set(z["seconds"]) == {
        "class_means", "scores", "top1_per_image_and_class", "gzsl", "class_query_ap@50",
        "single_query_ap@50"}
    assert abs(sum(z["seconds"].values()) - z["total_seconds"]) < 1e-2
    assert 0.0 <= z["top1_per_image"] <= 1.0


def test_retrieval_runs_within_the_memory_budget_and_skips_beyond_it():
    rng = np.random.default_rng(0)
    r = eval_throughput.retrieval(100, rng, max_gb=1.0)
    assert r["n_captions"] == 500 and "skipped" not in r
    assert set(r["seconds"]) == {"similarity", "recall_and_median_rank"}
    skipped = eval_throughput.retrieval(50000, rng, max_gb=1.0)
    assert "seconds" not in skipped and "46.6 GB" in skipped["skipped"]
    assert skipped["score_matrix_gb"] == round(4 * 50000 * 250000 / 2 ** 30, 3)
