import json

from tfembed.cli import main
from tfembed.data.tfrecords import read_tfrecords


def test_data_tfrecords_converts_a_source(tmp_path, capsys):
    out = tmp_path / "records"
    assert main(["data", "tfrecords", "--source", "synthetic_birds", "--out", str(out),
                 "--split", "test", "--shards", "2", "--set", "num_classes=6",
                 "--set", "num_unseen=2", "--set", "num_val=2", "--set", "images_per_class=3",
                 "--set", "texts_per_image=2"]) in (None, 0)
    assert json.loads(capsys.readouterr().out)["shards"] == 2
    records = list(read_tfrecords(str(out)))
    assert len(records) == 6  # 2 unseen classes x 3 images
    assert all(len(r["texts"].numpy()) == 2 for r in records)
