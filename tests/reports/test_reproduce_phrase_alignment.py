"""REPRODUCTION.md shows karpathy2015's Sec. 3.1.4 phrase-to-box accuracy (MRF / argmax) with
its chance, and no paper number for it."""

import json

from tfembed.reports import reproduce


def test_karpathy_synthetic_row_has_phrase_box_accuracy(tmp_path):
    metrics = {"i2t_r@1": 10.0, "i2t_r@5": 30.0, "i2t_r@10": 45.0, "i2t_medr": 12.0,
               "t2i_r@1": 8.0, "t2i_r@5": 25.0, "t2i_r@10": 40.0, "t2i_medr": 15.0,
               "phrase_box_accuracy": 0.71, "phrase_box_accuracy_argmax": 0.6,
               "noun_box_accuracy": 0.8, "noun_box_accuracy_argmax": 0.75}
    chance = {k: 0.1 for k in metrics}
    chance.update({k: 0.3 for k in metrics if "box" in k})
    path = tmp_path / "k" / "results.json"
    path.parent.mkdir()
    path.write_text(json.dumps({
        "recipe": "karpathy2015", "dataset": "synthetic_scenes", "protocol": "flickr_1k",
        "metrics": metrics, "chance": chance, "notes": [], "timing": {}, "versions": {},
        "config": {"recipe": "karpathy2015", "data.source": "synthetic_scenes",
                   "model.kind": "alignment", "image.regions": "boxes"}}))
    text = reproduce.report([str(tmp_path)], reproduce.find_results([str(tmp_path)]))
    row = next(line for line in text.splitlines() if str(path) in line and line.startswith("| "))
    assert "phrase-box acc. MRF/argmax: 71.0 / 60.0" in row
    assert "noun-box acc. MRF/argmax: 80.0 / 75.0" in row
    assert "phrase-box acc. MRF/argmax: 30.0 / 30.0" in row  # chance column
    assert "– (no comparable number: synthetic scenes" in row
