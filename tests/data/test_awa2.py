"""awa2 source on the Animals_with_Attributes2 fixture ('+' and plain class names)."""

import shutil

import numpy as np
import pytest
import scipy.io

from tfembed.data import load
from tfembed.errors import ConfigError, DataError


@pytest.fixture
def root(fixtures, tmp_path):
    shutil.copytree(fixtures / "awa2", tmp_path / "awa2")
    return tmp_path / "awa2"


def test_release_layout(fixtures):
    ds = load("awa2", str(fixtures / "awa2"))
    assert ds.num_images == 6 and ds.class_names[1] == "grizzly+bear"
    assert ds.image_ids[2] == "grizzly+bear/grizzly+bear_10001.jpg" and list(ds.labels) == [0, 0, 1, 1, 2, 2]
    assert ds.class_attributes.shape == (3, 4) and ds.class_attributes[0, 0] == -1.0
    assert ds.attribute_names == ["black", "white", "blue", "brown"]
    assert list(ds.splits["test"]) == [2, 3] and ds.meta["class_splits"] == {"train": [0, 2], "test": [1]}
    binary = load("awa2", str(fixtures / "awa2"), attributes="binary")
    np.testing.assert_array_equal(binary.class_attributes[2], [1, 1, 0, 0])


def test_plain_names_and_xlsa17_split_dir(root, tmp_path):
    (root / "classes.txt").write_text("1\tantelope\n2\tgrizzly bear\n3\tkiller whale\n")
    split_dir = tmp_path / "AWA2"
    split_dir.mkdir()
    (split_dir / "trainvalclasses.txt").write_text("killer+whale\ngrizzly+bear\n")
    (split_dir / "testclasses.txt").write_text("antelope\n")
    (split_dir / "trainclasses1.txt").write_text("killer+whale\n")
    (split_dir / "valclasses1.txt").write_text("grizzly+bear\n")
    ds = load("awa2", str(root), class_split_dir=str(split_dir))
    assert ds.class_names[1] == "grizzly bear" and list(ds.labels) == [0, 0, 1, 1, 2, 2]
    assert ds.meta["class_splits"] == {"trainval": [1, 2], "train": [2], "val": [1], "test": [0]}


def test_features_res101_layout(root):
    files = ["antelope/antelope_10002.jpg", "antelope/antelope_10001.jpg", "killer+whale/killer+whale_10001.jpg",
             "grizzly+bear/grizzly+bear_10001.jpg", "killer+whale/killer+whale_10002.jpg",
             "grizzly+bear/grizzly+bear_10002.jpg"]
    cells = np.empty((6, 1), object)
    for k, f in enumerate(files):
        cells[k, 0] = np.array(["/BS/Animals_with_Attributes2//JPEGImages/" + f])
    scipy.io.savemat(root / "res101.mat", {"features": np.array([[1, 0, 4, 2, 5, 3]], np.float32),
                                           "image_files": cells, "labels": np.ones((6, 1))})
    ds = load("awa2", str(root), features=str(root / "res101.mat"))
    np.testing.assert_array_equal(ds.features[:, 0], np.arange(6))
    shutil.rmtree(root / "JPEGImages")  # features alone: classes from the paths
    ds = load("awa2", str(root), features=str(root / "res101.mat"))
    assert ds.image_paths is None and list(ds.labels) == [0, 0, 2, 1, 2, 1]


@pytest.mark.parametrize("change, pattern", [
    (lambda r: (r / "predicate-matrix-continuous.txt").write_text("1 2 3 4\n1 2 3\n1 2 3 4\n"),
     r"predicate-matrix-continuous\.txt:2: expected 4 numbers, got 3"),
    (lambda r: (r / "predicate-matrix-continuous.txt").write_text("1 2 3 4\n1 2 3 4\n"),
     r"predicate-matrix-continuous\.txt: expected 3 rows"),
    (lambda r: (r / "classes.txt").write_text("1\tantelope\n3\tgrizzly+bear\n2\tkiller+whale\n"),
     r"classes\.txt:2: expected id 2"),
    (lambda r: (r / "JPEGImages/zebra").mkdir(), r"JPEGImages/zebra: image folder 'zebra' is not a class"),
    (lambda r: (r / "testclasses.txt").write_text("grizzly+bear\ngrizzly+bear\n"),
     r"testclasses\.txt:2: class 'grizzly\+bear' listed twice"),
    (lambda r: (r / "predicates.txt").write_bytes(b"1\tblack\n2\twh\xefte\n3\tblue\n4\tbrown\n"),
     r"predicates\.txt:2: predicate list is not valid UTF-8"),
])
def test_malformed(root, change, pattern):
    change(root)
    with pytest.raises(DataError, match=pattern):
        load("awa2", str(root))


def test_options(root):
    with pytest.raises(ConfigError, match="attributes must be 'continuous' or 'binary'"):
        load("awa2", str(root), attributes="both")
    with pytest.raises(ConfigError, match="unknown option.*split_dir; valid: attributes, class_split_dir"):
        load("awa2", str(root), split_dir="x")
