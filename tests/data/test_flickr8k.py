"""flickr8k source: Hodosh et al.'s token/split files, images dir, lite0 features (fixture + real)."""

import os
import shutil

import numpy as np
import pytest

from tfembed.data import load
from tfembed.errors import ConfigError, DataError

TOKEN = "Flickr8k.token.txt"


@pytest.fixture
def root(fixtures, tmp_path):
    shutil.copytree(fixtures / "flickr8k", tmp_path / "flickr8k")
    return tmp_path / "flickr8k"


def test_captions_splits_images(fixtures):
    ds = load("flickr8k", str(fixtures / "flickr8k"))
    assert ds.num_images == 5 and ds.class_names == ds.image_ids and list(ds.labels) == list(range(5))
    assert ds.image_ids[0] == "1000268201_693b08cb0e.jpg"
    assert ds.texts[1] == [f"Two people 1 talk {j} ." if j % 2 == 0 else "A dog number 1 runs ." for j in range(5)]
    assert list(ds.splits["train"]) == [0, 2] and list(ds.splits["val"]) == [1]
    assert 4 not in np.concatenate(list(ds.splits.values()))  # in no split, as in the release
    assert all(os.path.isfile(p) for p in ds.image_paths)


def test_features_only_with_images(fixtures):
    root = fixtures / "flickr8k"
    with pytest.raises(DataError, match=r"lite0_features\.npz: no feature row for image '1007129816"):
        load("flickr8k", str(root), features=str(root / "lite0_features.npz"))
    ds = load("flickr8k", str(root), features=str(root / "lite0_features.npz"), only_with_images=True)
    assert ds.num_images == 4 and ds.meta["skipped"] == {"no_image": 1}
    np.testing.assert_array_equal(ds.features, np.arange(8, dtype=np.float32).reshape(4, 2))


@pytest.mark.parametrize("change, pattern", [
    (lambda r: os.remove(r / TOKEN), r"Flickr8k\.token\.txt: missing caption file"),
    (lambda r: _edit(r / TOKEN, 6, "1001773457_577c3a7d70.jpg#0 A dog runs ."),
     r"Flickr8k\.token\.txt:7: expected '<image>#<k><TAB><caption>'"),
    (lambda r: _edit(r / TOKEN, 7, "1001773457_577c3a7d70.jpg#1\tsame k twice"),
     r"Flickr8k\.token\.txt:8: caption 1001773457_577c3a7d70\.jpg#1 given twice"),
    (lambda r: _edit(r / TOKEN, 10, None), r"Flickr8k\.token\.txt:11: expected 5 captions for 1002674143"),
    (lambda r: (r / "Flickr_8k.devImages.txt").write_text("1001773457_577c3a7d70.jpg\nmissing.jpg\n"),
     r"Flickr_8k\.devImages\.txt:2: image 'missing\.jpg' has no captions"),
    (lambda r: (r / TOKEN).write_bytes((r / TOKEN).read_bytes().replace(b"A dog number 2", b"A d\xf6g")),
     r"Flickr8k\.token\.txt:12: caption file is not valid UTF-8"),
    (lambda r: os.remove(r / "images/1003163366_44323f5815.jpg"),
     r"Flickr8k\.token\.txt:16: image file .*1003163366_44323f5815\.jpg does not exist \(1 missing; "
     r"only_with_images=True"),
    (lambda r: os.remove(r / "Flickr_8k.testImages.txt"), r"Flickr_8k\.testImages\.txt: missing split"),
    (lambda r: (r / "f.npz").write_bytes(b"not a zip"), None),
])
def test_malformed(root, change, pattern):
    change(root)
    if pattern is None:  # a corrupt feature file
        with pytest.raises(DataError, match=r"f\.npz: cannot read feature file"):
            load("flickr8k", str(root), features=str(root / "f.npz"))
        return
    with pytest.raises(DataError, match=pattern):
        load("flickr8k", str(root))


def _edit(path, index, new):
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[index:index + 1] = [] if new is None else [new]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def test_skip_and_restrict(root):
    _edit(root / TOKEN, 10, None)
    ds = load("flickr8k", str(root), skip_missing=True)
    assert ds.num_images == 4 and ds.meta["skipped"] == {"wrong_captions_count": 1}
    assert "1002674143_1b742ab4b8.jpg" not in ds.image_ids and list(ds.splits["train"]) == [0]
    os.remove(root / "images/1007129816_e794419615.jpg")
    ds = load("flickr8k", str(root), skip_missing=True, only_with_images=True)
    assert ds.num_images == 3 and ds.meta["skipped"] == {"wrong_captions_count": 1, "no_image": 1}
    with pytest.raises(ConfigError, match="unknown option.*with_images; valid: captions_per_image"):
        load("flickr8k", str(root), with_images=True)


def test_real_flickr8k(shared_data):
    root = shared_data / "flickr8k"
    with pytest.raises(DataError, match="7091 missing; only_with_images=True"):
        load("flickr8k", str(root))
    ds = load("flickr8k", str(root), features=str(root / "lite0_features.npz"), only_with_images=True)
    assert ds.num_images == 1000 and sum(len(t) for t in ds.texts) == 5000
    assert ds.features.shape == (1000, 1280) and ds.meta["skipped"] == {"no_image": 7091}
    assert {k: len(v) for k, v in ds.splits.items()} == {"train": 753, "val": 113, "test": 125}
    assert ds.texts[0][0] == "A child in a pink dress is climbing up a set of stairs in an entry way ."
