"""Sec. 3.1.4 in the Karpathy recipe: which words name which box on synthetic scenes, beta from
the validation scores, phrase_box_accuracy on a hand-built scene, and a smoke run that writes
the metric, phrase_alignments.json and region_word_alignment.png."""

import json
import types

import numpy as np
import pytest

from tfembed.errors import ConfigError
from tfembed.experiments import phrase_alignment as pa
from tfembed.layers.mrf_alignment import align_phrases, mrf_energy

WHOLE = [0.0, 0.0, 1.0, 1.0]
B0, B1 = [0.1, 0.1, 0.3, 0.3], [0.5, 0.5, 0.8, 0.8]
OBJECTS = [{"shape": "circle", "color": "red", "size": "small"},
           {"shape": "square", "color": "blue", "size": "large"}]
CAPTION = "a small red circle to the left of a blue square"
# Scores of its 11 words for regions (0 = whole image, 1 = the circle's box, 2 = the square's):
SCORES = np.array([[0.0, 0.0, 0.0],   # a
                   [1.0, 0.8, 0.0],   # small   argmax: whole image (wrong)
                   [0.0, 2.0, 0.0],   # red
                   [0.0, 3.0, 0.0],   # circle
                   [0.2, 0.0, 0.0],   # to
                   [0.2, 0.0, 0.0],   # the
                   [0.2, 0.0, 0.0],   # left
                   [0.2, 0.0, 0.0],   # of
                   [0.0, 0.0, 0.1],   # a
                   [0.0, 0.0, 2.0],   # blue
                   [1.0, 0.0, 0.9]])  # square  argmax: whole image (wrong)


def test_caption_words_match_the_tokenizer_standardisation():
    assert pa.caption_words("A picture of a red circle, a Blue square") == \
        ["a", "picture", "of", "a", "red", "circle", "a", "blue", "square"]


def test_distinct_regions_drop_the_padding_that_repeats_the_whole_image():
    assert pa.distinct_regions([WHOLE, B0, B1, WHOLE]).tolist() == [0, 1, 2]
    assert pa.distinct_regions([WHOLE, WHOLE]).tolist() == [0]


def test_scene_targets_score_unambiguous_mentions_only():
    words = pa.caption_words(CAPTION)
    targets, noun = pa.scene_targets(words, OBJECTS, [1, 2])
    assert targets.tolist() == [-1, 1, 1, 1, -1, -1, -1, -1, -1, 2, 2]
    assert np.flatnonzero(noun).tolist() == [3, 10]
    # Two red circles: "a red circle" names neither; "a small red circle" names the small one.
    two = OBJECTS + [{"shape": "circle", "color": "red", "size": "large"}]
    t, n = pa.scene_targets(pa.caption_words("a red circle above a small red circle"), two, [1, 2, 3])
    assert t.tolist() == [-1, -1, -1, -1, -1, 1, 1, 1] and np.flatnonzero(n).tolist() == [7]
    # An object whose box is not a region (max_regions too small) is not scored.
    assert (pa.scene_targets(words, OBJECTS, [1, -1])[0] == 2).sum() == 0


def _scene():
    """One synthetic-like scene with identity region vectors, so word vectors = score rows."""
    table = np.array([[WHOLE, B0, B1, WHOLE]], np.float32)
    dataset = types.SimpleNamespace(boxes=[np.array([B0, B1], np.float32)],
                                    meta={"objects": [OBJECTS]})
    regions = np.eye(3, dtype=np.float32)[[0, 1, 2, 0]][None]        # [1 image, R=4, D=3]
    words = np.zeros((1, 16, 3), np.float32)
    words[0, :11] = SCORES
    ids = np.zeros((1, 16), np.int64)
    ids[0, :11] = np.arange(2, 13)
    embedded = (regions, words, np.array([0]), [CAPTION])
    return dataset, table, embedded, ids


def test_hand_built_scene_mrf_beats_the_argmax():
    dataset, table, embedded, ids = _scene()
    sentences = pa.Sentences(embedded, ids, table, [0])
    np.testing.assert_allclose(sentences.scores[0], SCORES)
    # beta = 0.5: "small" joins "red circle" (box 1), "square" joins "blue" (box 2):
    # E = 9.6 + 8 x 0.5 = 13.6; the argmax (0,0,1,1,0,0,0,0,2,2,0) has only 9.9 + 6 x 0.5 = 12.9.
    assert sentences.decode(0.5)[0].tolist() == [1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 2]
    assert mrf_energy(SCORES, [1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 2], 0.5) == pytest.approx(13.6)
    assert mrf_energy(SCORES, np.argmax(SCORES, axis=1), 0.5) == pytest.approx(12.9)
    metrics, chance, counts = pa.accuracy_metrics(dataset, table, sentences, 0.5)
    assert metrics == pytest.approx({"phrase_box_accuracy": 1.0, "phrase_box_accuracy_argmax": 0.6,
                                     "noun_box_accuracy": 1.0, "noun_box_accuracy_argmax": 0.5})
    assert chance == pytest.approx({k: 1 / 3 for k in metrics})
    assert counts == {"phrase_box_accuracy": 5, "noun_box_accuracy": 2, "phrases": 3,
                      "phrases_argmax": 5}


def test_evaluate_resolves_beta_on_the_tuning_rows_and_reports_the_metric():
    dataset, table, embedded, ids = _scene()
    cfg = {"image": {"regions": "boxes"}, "decode": {"mrf_beta": 2.0, "mrf_beta_scale": "median_gap"}}
    asked = []

    def embed_rows(rows):
        asked.append(list(rows))
        return embedded

    metrics, chance, notes, beta = pa.evaluate(cfg, dataset, table, embed_rows, lambda s: ids,
                                               tune_rows=[0], test_rows=[0])
    gaps = np.sort(SCORES, axis=1)[:, -1] - np.sort(SCORES, axis=1)[:, -2]
    assert beta == pytest.approx(2.0 * np.median(gaps))
    assert asked == [[0], [0]] and "phrase_box_accuracy" in metrics
    assert set(chance) == set(metrics)
    assert any("not a paper number" in n for n in notes) and f"{beta:.4g}" in notes[0]
    # Grid regions: beta is still chosen, the accuracy needs object boxes.
    metrics, _, notes, _ = pa.evaluate({**cfg, "image": {"regions": "grid"}}, dataset, table,
                                       embed_rows, lambda s: ids, [0], [0])
    assert metrics == {} and "not measured" in notes[-1]
    # One whole-image region: nothing to align.
    assert pa.evaluate(cfg, dataset, None, embed_rows, lambda s: ids, [0], [0])[3] is None


def test_beta_options():
    scores = [np.array([[0.0, 1.0], [3.0, 0.0], [0.0, 0.5]]), np.array([[2.0]])]
    assert pa.median_gap(scores) == 1.0  # gaps 1, 3, 0.5; one-region sentences do not count
    assert pa.median_gap([np.array([[2.0]])]) is None
    beta, how = pa.resolve_beta({"mrf_beta": 0.5, "mrf_beta_scale": "median_gap"}, scores)
    assert beta == 0.5 and "median" in how
    assert pa.resolve_beta({"mrf_beta": 0.7, "mrf_beta_scale": "absolute"}, scores)[0] == 0.7
    assert pa.decode_options({}) == pa.DEFAULTS
    for bad in ({"mrf_beta": -1.0}, {"mrf_beta_scale": "max"}):
        with pytest.raises(ConfigError, match="decode.mrf_beta"):
            pa.decode_options({"decode": bad})


def test_smoke_run_writes_metric_alignments_and_figure(tmp_path):
    from tfembed.recipe import run_recipe

    assert run_recipe("karpathy2015", ["--smoke", "--workdir", str(tmp_path), "--set", "plot=True",
                                       "--set", "decode.mrf_beta_scale=absolute",
                                       "--set", "decode.mrf_beta=0.001"]) == 0
    res = json.loads((tmp_path / "results.json").read_text())
    for key in ("phrase_box_accuracy", "phrase_box_accuracy_argmax", "noun_box_accuracy",
                "noun_box_accuracy_argmax"):
        assert 0 <= res["metrics"][key] <= 1 and 1 / 4 <= res["chance"][key] <= 1 / 3
    assert (tmp_path / "region_word_alignment.png").stat().st_size > 1000
    found = json.loads((tmp_path / "phrase_alignments.json").read_text())
    assert found["beta"] == 0.001 and len(found["sentences"]) == 3
    for rec in found["sentences"]:  # checkable: the stored scores give the stored phrases
        scores = np.array(rec["scores"])
        assert scores.shape == (len(rec["words"]), len(rec["regions"]))
        a, segs = align_phrases(scores, found["beta"])
        assert a.tolist() == rec["mrf"]["assignment"]
        assert [[s["start"], s["end"], s["region"]] for s in rec["mrf"]["segments"]] == \
            [list(s) for s in segs]
        assert " ".join(s["text"] for s in rec["mrf"]["segments"]) == " ".join(rec["words"])
        assert rec["argmax"]["assignment"] == np.argmax(scores, axis=1).tolist()
    assert any(n.startswith("alignment plot: ") for n in res["notes"])


def test_negative_beta_is_refused_before_training(tmp_path, capsys):
    from tfembed.recipe import run_recipe

    assert run_recipe("karpathy2015", ["--smoke", "--workdir", str(tmp_path),
                                       "--set", "decode.mrf_beta=-1"]) != 0
    assert "decode.mrf_beta must be finite and >= 0" in capsys.readouterr().err
    assert not (tmp_path / "checkpoints").exists()
