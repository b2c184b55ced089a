"""karpathy_json source: dataset_coco.json (filepath) and flickr-style (images/) layouts."""

import json
import shutil

import pytest

from tfembed.data import load
from tfembed.errors import ConfigError, DataError


@pytest.fixture
def root(fixtures, tmp_path):
    shutil.copytree(fixtures / "karpathy", tmp_path / "karpathy")
    return tmp_path / "karpathy"


def test_coco_json(fixtures):
    ds = load("karpathy_json", str(fixtures / "karpathy"))
    assert ds.name == "karpathy/coco" and ds.num_images == 5 and len(ds.texts[1]) == 6
    assert ds.image_ids[3] == "COCO_val2014_000000000042.jpg"
    assert ds.image_paths[3].endswith("val2014/COCO_val2014_000000000042.jpg")
    assert {k: list(v) for k, v in ds.splits.items()} == {"train": [0], "restval": [1], "val": [2, 4],
                                                          "test": [3]}
    assert ds.texts[0][1] == "A dog number 0 runs ."


def test_flickr_style_and_autodetect(root):
    data = json.loads((root / "dataset_coco.json").read_text())
    for image in data["images"]:
        del image["filepath"], image["cocoid"]
    (root / "dataset_flickr8k.json").write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="expected exactly one dataset_\\*.json .* found 2"):
        load("karpathy_json", str(root))
    (root / "images").mkdir()
    for p in list(root.glob("*2014/*.jpg")):
        shutil.copy(p, root / "images" / p.name)
    ds = load("karpathy_json", str(root), file="dataset_flickr8k.json")
    assert ds.image_paths[0] == str(root / "images" / ds.image_ids[0])


@pytest.mark.parametrize("edit, pattern", [
    (lambda d: d["images"][2].pop("split"), r"dataset_coco\.json:images\[2\]: record lacks split"),
    (lambda d: d["images"][1].update(split="dev"), r"images\[1\]: split 'dev' is not one of train"),
    (lambda d: d["images"][0]["sentences"][3].pop("raw"), r"images\[0\]\.sentences\[3\]: record lacks raw"),
    (lambda d: d["images"][4].update(sentences=[]), r"images\[4\]: expected at least 1 captions"),
    (lambda d: d["images"].append(dict(d["images"][0])), r"images\[5\]: image 'train2014/.*' listed twice"),
])
def test_malformed_records(root, edit, pattern):
    data = json.loads((root / "dataset_coco.json").read_text())
    edit(data)
    (root / "dataset_coco.json").write_text(json.dumps(data))
    with pytest.raises(DataError, match=pattern):
        load("karpathy_json", str(root))


def test_bad_json_and_missing_image(root):
    (root / "train2014" / "COCO_train2014_000000000009.jpg").unlink()
    with pytest.raises(DataError, match=r"dataset_coco\.json:images\[0\]: image file .* does not exist"):
        load("karpathy_json", str(root))
    assert load("karpathy_json", str(root), only_with_images=True).meta["skipped"] == {"no_image": 1}
    (root / "dataset_coco.json").write_text('{"images": [\n{"filename": "a.jpg",]}')
    with pytest.raises(DataError, match=r"dataset_coco\.json:2: Karpathy split file is not valid JSON"):
        load("karpathy_json", str(root))
