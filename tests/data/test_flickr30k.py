"""flickr30k source: results_20130124.token, flickr30k-images/, optional Karpathy or list splits."""

import json
import shutil

import pytest

from tfembed.data import load
from tfembed.errors import ConfigError, DataError


@pytest.fixture
def root(fixtures, tmp_path):
    shutil.copytree(fixtures / "flickr30k", tmp_path / "flickr30k")
    return tmp_path / "flickr30k"


def test_all_split_by_default(fixtures):
    ds = load("flickr30k", str(fixtures / "flickr30k"))
    assert ds.num_images == 3 and list(ds.splits) == ["all"] and len(ds.splits["all"]) == 3
    assert ds.image_ids[1] == "10002456.jpg" and len(ds.texts[1]) == 5


def test_given_splits(root):
    ds = load("flickr30k", str(root), karpathy_json="dataset_flickr30k.json")
    assert {k: list(v) for k, v in ds.splits.items()} == {"train": [0], "val": [1], "test": [2]}
    (root / "mine.txt").write_text("1000268201.jpg\n10002456.jpg\n")
    ds = load("flickr30k", str(root), split_files={"test": "mine.txt"})
    assert {k: list(v) for k, v in ds.splits.items()} == {"test": [1, 2]}


def test_malformed(root):
    data = json.loads((root / "dataset_flickr30k.json").read_text())
    data["images"][2]["filename"] = "999.jpg"
    (root / "k.json").write_text(json.dumps(data))
    with pytest.raises(DataError, match=r"k\.json:images\[2\]: image '999\.jpg' has no captions"):
        load("flickr30k", str(root), karpathy_json="k.json")
    (root / "results_20130124.token").write_text("1000092795.jpg#0\n")
    with pytest.raises(DataError, match=r"results_20130124\.token:1: expected '<image>#<k><TAB><caption>'"):
        load("flickr30k", str(root))
    with pytest.raises(ConfigError, match="split_files must be a dict"):
        load("flickr30k", str(root), split_files="mine.txt")
