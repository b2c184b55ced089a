"""cub source on the CUB_200_2011 + Reed cvpr2016 fixture, and on the real lite0.mat features."""

import os
import shutil

import numpy as np
import pytest
import scipy.io

from tfembed.data import load
from tfembed.errors import ConfigError, DataError


@pytest.fixture
def root(fixtures, tmp_path):
    shutil.copytree(fixtures / "cub", tmp_path / "cub")
    return tmp_path / "cub"


def test_layout_texts_splits_attributes(fixtures):
    ds = load("cub", str(fixtures / "cub"))
    assert ds.num_images == 8 and ds.num_classes == 4
    assert ds.class_names[0] == "001.Black_footed_Albatross"
    assert list(ds.labels) == [0, 0, 1, 1, 2, 2, 3, 3]
    assert all(len(t) == 10 for t in ds.texts) and ds.texts[3][0] == "this bird 3 has feature 0 ."
    assert list(ds.splits["trainval"]) == [0, 1, 2, 3, 6, 7] and list(ds.splits["test"]) == [4, 5]
    assert list(ds.splits["official_train"]) == [0, 2, 4, 6]
    assert ds.meta["class_splits"] == {"trainval": [0, 1, 3], "test": [2], "train": [0, 1], "val": [3]}
    assert ds.class_attributes.shape == (4, 3) and ds.class_attributes.dtype == np.float32
    assert ds.attribute_names[1] == "has_bill_shape::dagger"
    assert all(os.path.isabs(p) and os.path.isfile(p) for p in ds.image_paths)


def test_features_matched_by_class_and_file(fixtures):
    ds = load("cub", str(fixtures / "cub"), features=str(fixtures / "cub" / "features.mat"))
    assert ds.features.dtype == np.float32
    np.testing.assert_array_equal(ds.features[:, 0], np.arange(8))  # rows were shuffled in the file


def test_missing_feature_row(root):
    mat = scipy.io.loadmat(root / "features.mat")
    scipy.io.savemat(root / "f7.mat", {"features": mat["features"][:, 1:],
                                       "image_files": mat["image_files"][1:], "labels": mat["labels"][1:]})
    with pytest.raises(DataError, match=r"f7\.mat.*no feature row for image '003\.Sooty"):
        load("cub", str(root), features=str(root / "f7.mat"))
    ds = load("cub", str(root), features=str(root / "f7.mat"), skip_missing=True)
    assert ds.num_images == 7 and ds.meta["skipped"] == {"missing_feature": 1}


def _rewrite(path, fn):
    lines = path.read_text().splitlines()
    path.write_text("".join(line + "\n" for line in fn(lines)))


@pytest.mark.parametrize("change, pattern", [
    (lambda r: os.remove(r / "images.txt"), r"images\.txt: missing image list"),
    (lambda r: _rewrite(r / "images.txt", lambda ls: ls[:2] + ["3"] + ls[3:]),
     r"images\.txt:3: expected '<image_id> <class>/<file>\.jpg'"),
    (lambda r: _rewrite(r / "image_class_labels.txt", lambda ls: ls[:-1]),
     r"image_class_labels\.txt: expected 8 labels"),
    (lambda r: _rewrite(r / "image_class_labels.txt", lambda ls: ls[:1] + ["2 2"] + ls[2:]),
     r"image_class_labels\.txt:2: class 002\.Laysan_Albatross disagrees"),
    (lambda r: _rewrite(r / "testclasses.txt", lambda ls: ls + ["201.Unknown_Bird"]),
     r"testclasses\.txt:2: unknown class '201\.Unknown_Bird'"),
    (lambda r: _rewrite(r / "attributes/class_attribute_labels_continuous.txt",
                        lambda ls: ls[:1] + ["1.0 2.0"] + ls[2:]),
     r"class_attribute_labels_continuous\.txt:2: expected 3 numbers"),
    (lambda r: (r / "text_c10/002.Laysan_Albatross/Laysan_Albatross_0001_111.txt").write_bytes(
        b"a good line\nbad \xff byte\n" + b"x\n" * 8), r"Laysan_Albatross_0001_111\.txt:2: .*UTF-8"),
    (lambda r: _rewrite(r / "text_c10/002.Laysan_Albatross/Laysan_Albatross_0001_111.txt",
                        lambda ls: ls[:9]), r"Laysan_Albatross_0001_111\.txt: expected 10 descriptions"),
    (lambda r: os.remove(r / "images/004.Groove_billed_Ani/Groove_billed_Ani_0002_132.jpg"),
     r"images\.txt:8: image file .*Groove_billed_Ani_0002_132\.jpg does not exist"),
])
def test_malformed(root, change, pattern):
    change(root)
    with pytest.raises(DataError, match=pattern):
        load("cub", str(root))


def test_skip_missing_counts(root):
    os.remove(root / "text_c10/001.Black_footed_Albatross/Black_footed_Albatross_0001_101.txt")
    with pytest.raises(DataError, match=r"Black_footed_Albatross_0001_101\.txt: missing description"):
        load("cub", str(root))
    ds = load("cub", str(root), skip_missing=True)
    assert ds.num_images == 7 and ds.meta["skipped"] == {"missing_text": 1}
    assert list(ds.splits["trainval"]) == [0, 1, 2, 5, 6]


def test_verify_images_and_options(root):
    bad = root / "images/003.Sooty_Albatross/Sooty_Albatross_0001_121.jpg"
    bad.write_bytes(bad.read_bytes()[:40])
    assert load("cub", str(root)).num_images == 8  # not decoded by default
    with pytest.raises(DataError, match=r"Sooty_Albatross_0001_121\.jpg: undecodable image"):
        load("cub", str(root), verify_images=True)
    with pytest.raises(ConfigError, match=r"unknown option\(s\) feature; valid: features, reed_dir"):
        load("cub", str(root), feature="x.mat")


def test_real_sample_with_lite0_features(shared_data, tmp_path):
    """A CUB layout over the 1,000 real sample images, matched to the real lite0.mat rows."""
    sample = shared_data / "cub" / "images_sample"
    rows = [ln.split() for ln in (sample / "index.txt").read_text().splitlines() if not ln.startswith("#")]
    classes = sorted({r[1].split("/")[0] for r in rows})
    (tmp_path / "classes.txt").write_text("".join(f"{i + 1} {c}\n" for i, c in enumerate(classes)))
    (tmp_path / "images.txt").write_text("".join(f"{i + 1} {r[1]}\n" for i, r in enumerate(rows)))
    (tmp_path / "image_class_labels.txt").write_text("".join(
        f"{i + 1} {classes.index(r[1].split('/')[0]) + 1}\n" for i, r in enumerate(rows)))
    os.symlink(sample, tmp_path / "images")
    lite0 = shared_data / "cub" / "lite0.mat"
    ds = load("cub", str(tmp_path), features=str(lite0))
    assert ds.num_images == 1000 and ds.num_classes == 200 and ds.features.shape == (1000, 1280)
    expected = scipy.io.loadmat(lite0)["features"].T[[int(r[0]) - 1 for r in rows]]
    np.testing.assert_array_equal(ds.features, expected)
