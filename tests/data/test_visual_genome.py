"""visual_genome source: image_data.json + region_descriptions.json -> texts and boxes."""

import json
import shutil

import numpy as np
import pytest

from tfembed.data import load
from tfembed.errors import DataError

REGIONS = "region_descriptions.json"


@pytest.fixture
def root(fixtures, tmp_path):
    shutil.copytree(fixtures / "visual_genome", tmp_path / "vg")
    return tmp_path / "vg"


def test_phrases_and_boxes(fixtures):
    ds = load("visual_genome", str(fixtures / "visual_genome"))
    assert ds.image_ids == ["1", "2"] and ds.texts[0] == ["the clock is green", "shade along the street "]
    np.testing.assert_allclose(ds.boxes[0], [[0.1, 0.5, 0.2, 0.6], [0.5, 0.875, 1.0, 1.0]])
    assert ds.boxes[1].dtype == np.float32 and ds.boxes[1].shape == (1, 4)
    assert ds.meta["clipped_boxes"] == 1 and ds.stats()["boxes"] == 3
    assert ds.image_paths[1].endswith("VG_100K_2/2.jpg")


def _edit(path, fn):
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("change, pattern", [
    (lambda r: _edit(r / REGIONS, lambda d: d[1]["regions"][0].update(image_id=1)),
     r"region_descriptions\.json:\[1\]\.regions\[0\]: region of image 1 inside the entry of image 2"),
    (lambda r: _edit(r / REGIONS, lambda d: d[0]["regions"][1].pop("phrase")),
     r"region_descriptions\.json:\[0\]\.regions\[1\]: record lacks phrase"),
    (lambda r: _edit(r / REGIONS, lambda d: d.append({"id": 9, "regions": []})),
     r"region_descriptions\.json:\[2\]: image id 9 is not in image_data\.json"),
    (lambda r: _edit(r / REGIONS, lambda d: d.pop()),
     r"image_data\.json:\[1\]: expected at least 1 regions for 2"),
    (lambda r: _edit(r / "image_data.json", lambda d: d[0].update(width=0)),
     r"image_data\.json:\[0\]: expected positive width/height"),
    (lambda r: (r / "VG_100K_2/2.jpg").unlink(), r"image_data\.json:\[1\]: image file .*2\.jpg does not exist"),
])
def test_malformed(root, change, pattern):
    change(root)
    with pytest.raises(DataError, match=pattern):
        load("visual_genome", str(root))


def test_skip_missing(root):
    _edit(root / REGIONS, lambda d: d.pop())
    ds = load("visual_genome", str(root), skip_missing=True)
    assert ds.num_images == 1 and len(ds.boxes) == 1 and ds.meta["skipped"] == {"wrong_regions_count": 1}
