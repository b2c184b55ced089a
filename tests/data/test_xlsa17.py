"""xlsa17 source: fixture (CUB in non-folder class order, FLO without names) and the real GBU files."""

import shutil

import numpy as np
import pytest
import scipy.io

from tfembed.data import load
from tfembed.errors import ConfigError, DataError

@pytest.fixture
def root(fixtures, tmp_path):
    shutil.copytree(fixtures / "xlsa17", tmp_path / "xlsa17")
    return tmp_path / "xlsa17"


def test_classes_attributes_sentences_without_features(fixtures):
    ds = load("xlsa17", str(fixtures / "xlsa17"))
    assert ds.num_images == 0 and ds.class_names[0] == "003.Sooty_Albatross"
    np.testing.assert_array_equal(ds.class_attributes, np.arange(12).reshape(3, 4).T + 1)
    # sent_splits.mat lists the classes in reverse: mapped back by name
    np.testing.assert_array_equal(ds.class_embeddings["sent"], np.arange(24).reshape(6, 4).T + 1)
    assert ds.meta["class_splits"] == {"trainval": [1, 2, 3], "test": [0], "train": [1, 3], "val": [2]}
    flo = load("xlsa17", str(fixtures / "xlsa17"), dataset="FLO")
    assert flo.class_names == ["class_001", "class_002", "class_003"] and flo.meta["class_splits"] == {}


def test_features_locs_and_labels_by_name(fixtures):
    ds = load("xlsa17", str(fixtures / "xlsa17"), features=str(fixtures / "xlsa17/CUB/res101.mat"))
    assert ds.num_images == 12 and ds.features.shape == (12, 2)
    assert ds.image_ids[6] == "003.Sooty_Albatross/img_1.jpg"
    assert ds.class_names[ds.labels[6]] == "003.Sooty_Albatross"
    assert list(ds.splits["test_unseen"]) == [6, 7, 8] and list(ds.splits["val"]) == [9, 10, 11]
    assert set(ds.split_classes("trainval")) == {1, 2, 3}


def _resave(path, drop=(), **changes):
    mat = {k: v for k, v in scipy.io.loadmat(path).items() if not k.startswith("__") and k not in drop}
    scipy.io.savemat(path, {**mat, **changes})


@pytest.mark.parametrize("change, pattern", [
    (lambda r: shutil.rmtree(r / "CUB"), r"CUB/att_splits\.mat: missing xlsa17 split file"),
    (lambda r: _resave(r / "CUB/att_splits.mat", drop=["test_unseen_loc"]),
     r"att_splits\.mat: xlsa17 split file lacks variable\(s\) test_unseen_loc; has allclasses_names"),
    (lambda r: _resave(r / "CUB/att_splits.mat", test_unseen_loc=np.array([[7], [13]], np.uint16)),
     r"att_splits\.mat: test_unseen_loc\[2\] = 13 is not a 1-based index in 1\.\.12"),
    (lambda r: (r / "CUB/testclasses.txt").write_text("003.Sooty_Albatross\n999.Dodo\n"),
     r"testclasses\.txt:2: unknown class '999\.Dodo'"),
    (lambda r: (r / "CUB/trainvalclasses.txt").write_text("001.Black_footed_Albatross\n"),
     r"classes of trainval_loc .* differ from trainvalclasses\.txt"),
    (lambda r: (r / "CUB/valclasses1.txt").write_bytes(b"004.Groove\xe9billed_Ani\n"),
     r"valclasses1\.txt:1: class list is not valid UTF-8"),
    (lambda r: _resave(r / "CUB/res101.mat", drop=["labels"]),
     r"res101\.mat: feature file .* lacks variable\(s\) labels"),
])
def test_malformed(root, change, pattern):
    change(root)
    with pytest.raises(DataError, match=pattern):
        load("xlsa17", str(root), features=str(root / "CUB/res101.mat"))


def test_bad_options(fixtures):
    with pytest.raises(ConfigError, match="dataset must be one of CUB, AWA1"):
        load("xlsa17", str(fixtures / "xlsa17"), dataset="IMAGENET")
    with pytest.raises(ConfigError, match="unknown option.*split; valid: attributes, dataset"):
        load("xlsa17", str(fixtures / "xlsa17"), split="PS")


@pytest.mark.parametrize("name, classes, dim, test", [
    ("CUB", 200, 312, 50), ("AWA1", 50, 85, 10), ("AWA2", 50, 85, 10), ("SUN", 717, 102, 72),
    ("APY", 32, 64, 12), ("FLO", 102, 1024, None)])
def test_real_without_features(shared_data, name, classes, dim, test):
    ds = load("xlsa17", str(shared_data / "xlsa17"), dataset=name)
    assert ds.num_classes == classes and ds.class_attributes.shape == (classes, dim)
    if test is not None:
        split = ds.meta["class_splits"]
        assert len(split["test"]) == test and len(split["trainval"]) + test == classes
    assert ds.stats()["images"] == 0


def test_real_cub_with_lite0(shared_data):
    ds = load("xlsa17", str(shared_data / "xlsa17"), features=str(shared_data / "cub" / "lite0.mat"))
    assert ds.num_images == 11788 and ds.num_classes == 200 and ds.features.shape[1] == 1280
    assert len(ds.splits["test_unseen"]) == 2967 and len(ds.split_classes("test_unseen")) == 50
    assert len(ds.splits["train"]) == 5875 and len(ds.splits["val"]) == 2946
    folders = [i.split("/")[0] for i in ds.image_ids]
    assert all(ds.class_names[c] == f for c, f in zip(ds.labels, folders))
    # class_attributes[labels] = the att column of each image's folder class, found by name
    att = scipy.io.loadmat(shared_data / "xlsa17/CUB/att_splits.mat")["att"]
    listed = (shared_data / "xlsa17/CUB/allclasses.txt").read_text().split()
    columns = [listed.index(f) for f in folders]
    np.testing.assert_allclose(ds.class_attributes[ds.labels], att.T[columns], rtol=1e-6)
    assert ds.class_names[0] == "002.Laysan_Albatross" and ds.labels[0] != 0  # not folder order
    assert ds.class_embeddings["sent"].shape == (200, 1024)
