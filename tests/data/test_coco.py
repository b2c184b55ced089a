"""coco source: annotations/captions_{train,val}2014.json and <split>2014/ image folders."""

import json
import shutil

import pytest

from tfembed.data import load
from tfembed.errors import ConfigError, DataError

TRAIN = "annotations/captions_train2014.json"


@pytest.fixture
def root(fixtures, tmp_path):
    shutil.copytree(fixtures / "coco", tmp_path / "coco")
    return tmp_path / "coco"


def test_captions_and_splits(fixtures):
    ds = load("coco", str(fixtures / "coco"))
    assert ds.name == "coco2014" and ds.num_images == 5
    assert {k: list(v) for k, v in ds.splits.items()} == {"train": [0, 1, 2], "val": [3, 4]}
    assert ds.image_ids[0] == "COCO_train2014_000000000009.jpg" and len(ds.texts[0]) == 6
    assert ds.texts[0][-1] == "A sixth caption with trailing space "  # kept exactly
    assert ds.image_paths[3].endswith("val2014/COCO_val2014_000000000042.jpg")
    assert ds.meta["split_files"]["val"] == "captions_val2014.json"


def _edit(path, fn):
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("change, pattern", [
    (lambda r: _edit(r / TRAIN, lambda d: d["annotations"][4].update(image_id=77)),
     r"captions_train2014\.json:annotations\[4\]: image_id 77 is not in this file's images"),
    (lambda r: _edit(r / TRAIN, lambda d: d["images"][1].pop("file_name")),
     r"captions_train2014\.json:images\[1\]: record lacks file_name"),
    (lambda r: _edit(r / TRAIN, lambda d: d.update(annotations=[a for a in d["annotations"] if a["image_id"] != 30])),
     r"captions_train2014\.json:images\[2\]: expected at least 1 captions for COCO_train2014_000000000030"),
    (lambda r: (r / "val2014/COCO_val2014_000000000073.jpg").unlink(),
     r"captions_val2014\.json:images\[1\]: image file .*COCO_val2014_000000000073\.jpg does not exist"),
    (lambda r: (r / TRAIN).write_bytes(b'{"images": [], \n"x": "\xff"}'),
     r"captions_train2014\.json:2: COCO caption file is not valid UTF-8"),
    (lambda r: shutil.rmtree(r / "annotations"), r"annotations: missing annotations directory"),
])
def test_malformed(root, change, pattern):
    change(root)
    with pytest.raises(DataError, match=pattern):
        load("coco", str(root))


def test_years_and_options(root):
    shutil.copy(root / TRAIN, root / "annotations/captions_train2017.json")
    with pytest.raises(ConfigError, match="several caption years .*pass year=2014"):
        load("coco", str(root))
    assert load("coco", str(root), year=2014).num_images == 5
    ds = load("coco", str(root), year=2017)  # no train2017/ folder: captions only
    assert ds.num_images == 3 and ds.image_paths is None
    with pytest.raises(DataError, match="no captions_\\*2015.json"):
        load("coco", str(root), year=2015)
    with pytest.raises(ConfigError, match="unknown option.*split; valid: features"):
        load("coco", str(root), split="train")
