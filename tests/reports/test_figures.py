"""retrieval_queries.png and the curves: the drawn text holds the whole query, a legend for
the border colours, each result's rank and score; curves have axis labels."""

import os
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from tfembed.reports import figures  # noqa: E402

LONG = ("this bird has a bright red crown, a short black beak that curves downwards, white "
        "wing bars on dark brown wings and a long forked tail with white outer feathers; its "
        "belly is pale yellow with faint streaks TAILWORD")


def _joined(texts):
    return " ".join(" ".join(texts).split())


def test_queries_figure_draws_the_whole_query_legend_rank_and_score():
    pixels = np.zeros((8, 8, 3))
    fig = figures.queries_figure([LONG, "short"], [[(pixels, 0.91, True), (pixels, -0.2, False)],
                                                   [(pixels, 3.5, False)]])
    texts = figures.figure_texts(fig)
    assert LONG in _joined(texts)  # wrapped, not cut
    assert set(figures.LEGEND.values()) <= set(texts)
    assert "rank 1  score 0.91" in texts and "rank 2  score -0.2" in texts
    assert "rank 1  score 3.5" in texts


def test_plot_queries_writes_the_png_with_right_and_wrong_borders(tmp_path, monkeypatch):
    from tfembed.experiments import common

    labels = np.array([0, 0, 1, 1, 2, 2])
    dataset = SimpleNamespace(images=np.full((6, 8, 8, 3), 100, np.uint8), image_paths=None,
                              features=None, labels=labels, num_images=6)
    emb = np.eye(3)[labels] + 0.01 * np.arange(6)[:, None]
    model = SimpleNamespace(score=lambda a, b: np.asarray(a) @ np.asarray(b).T)
    strings = [LONG, "second query", "third query"]
    split = lambda *a: (emb, np.eye(3), np.arange(3), strings)  # noqa: E731
    drawn = []
    monkeypatch.setattr(figures, "queries_figure", lambda q, r, f=figures.queries_figure:
                        drawn.append((q, r)) or f(q, r))
    notes = common.plot_queries(model, None, None, dataset, np.arange(6), str(tmp_path), split,
                                n_queries=3, top=3)
    assert notes == [f"query plot: {tmp_path / 'retrieval_queries.png'}"]
    assert os.path.getsize(tmp_path / "retrieval_queries.png") > 1000
    queries, results = drawn[0]
    assert sorted(queries) == sorted(strings)
    for query, row in zip(queries, results):
        # Query class c ranks its own two images first (green), then another class (red).
        assert [right for _, _, right in row] == [True, True, False], query
        assert row[0][1] >= row[1][1] >= row[2][1]


def test_curves_have_axis_labels(tmp_path):
    from tfembed.experiments.semantic_retrieval_parts import plot_curves

    curve = {"r": [1, 10], "ndcg": [0.2, 0.4], "pcc_r": [10, 100], "pcc": [0.1, 0.3]}
    fig = plot_curves({"tfidf": curve}, str(tmp_path / "c.png"))
    assert os.path.exists(tmp_path / "c.png")
    for ax in fig.axes:
        assert ax.get_xlabel().startswith("R") and ax.get_ylabel()
    assert "tfidf" in figures.figure_texts(fig)


def test_alignment_figure_keeps_the_caption_and_scores_each_phrase(tmp_path):
    from tfembed.experiments import alignment_plot

    dataset = SimpleNamespace(images=np.full((1, 16, 16, 3), 90, np.uint8), image_paths=None,
                              features=None)
    words = LONG.split()[:6]
    scores = np.zeros((6, 2))
    scores[:3, 1], scores[3:, 0] = 0.8, 0.25
    segments = [{"start": 0, "end": 3, "region": 1, "text": " ".join(words[:3])},
                {"start": 3, "end": 6, "region": 0, "text": " ".join(words[3:])}]
    record = {"row": 0, "image_id": "img_0", "caption": LONG, "scores": scores.tolist(),
              "regions": [{"number": 0, "box_yxyx": [0, 0, 1, 1]},
                          {"number": 1, "box_yxyx": [0.2, 0.2, 0.6, 0.6]}],
              "mrf": {"segments": segments}, "argmax": {"segments": segments}}
    path, fig = alignment_plot._draw([record], dataset, str(tmp_path), beta=0.5)
    assert os.path.exists(path)
    texts = figures.figure_texts(fig)
    assert LONG in _joined(texts)
    assert f"[1]  {segments[0]['text']}  (score 0.8)" in texts
    assert f"[0]  {segments[1]['text']}  (score 0.25)" in texts
