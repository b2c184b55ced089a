"""flowers source on the Oxford-102 + Reed cvpr2016_flowers fixture."""

import os
import shutil

import numpy as np
import pytest
import scipy.io

from tfembed.data import load
from tfembed.errors import ConfigError, DataError


@pytest.fixture
def root(fixtures, tmp_path):
    shutil.copytree(fixtures / "flowers", tmp_path / "flowers")
    return tmp_path / "flowers"


def test_labels_texts_and_splits(fixtures):
    ds = load("flowers", str(fixtures / "flowers"))
    assert ds.num_images == 6 and ds.class_names == ["class_00001", "class_00002", "class_00003"]
    assert list(ds.labels) == [1, 0, 2, 0, 1, 2]  # imagelabels.mat is 1-based
    assert ds.texts[2][0] == "a flower 2 with petals 0" and all(len(t) == 10 for t in ds.texts)
    assert list(ds.splits["official_train"]) == [0, 1] and list(ds.splits["official_test"]) == [4, 5]
    assert list(ds.splits["test"]) == [0, 4] and ds.meta["class_splits"]["trainval"] == [0, 2]
    assert ds.image_paths[0].endswith(os.path.join("jpg", "image_00001.jpg"))


def test_features_by_file_name(root):
    order = [3, 0, 5, 1, 4, 2]
    cells = np.empty((6, 1), object)
    for k, r in enumerate(order):
        cells[k, 0] = np.array([f"/BS/Flowers/jpg/image_{r + 1:05d}.jpg"])
    scipy.io.savemat(root / "res101.mat", {"features": np.array([order], np.float32),
                                           "image_files": cells, "labels": np.ones((6, 1))})
    ds = load("flowers", str(root), features=str(root / "res101.mat"))
    np.testing.assert_array_equal(ds.features[:, 0], np.arange(6))


@pytest.mark.parametrize("change, pattern", [
    (lambda r: os.remove(r / "setid.mat"), r"setid\.mat: missing split file"),
    (lambda r: scipy.io.savemat(r / "setid.mat", {"trnid": [[1]], "valid": [[2]]}),
     r"setid\.mat: split file lacks variable\(s\) tstid"),
    (lambda r: scipy.io.savemat(r / "setid.mat", {"trnid": [[1]], "valid": [[2]], "tstid": [[0]]}),
     r"setid\.mat: tstid\[1\] = 0 is not a 1-based index"),
    (lambda r: shutil.move(r / "text_c10/class_00002/image_00001.txt", r / "text_c10/class_00001"),
     r"class_00002/image_00001\.txt: missing description file"),
    (lambda r: (r / "trainvalclasses.txt").write_text("class_00003\nclass_00104\n"),
     r"trainvalclasses\.txt:2: unknown class 'class_00104'"),
    (lambda r: (r / "text_c10/class_00001/image_00004.txt").write_bytes(b"ok\n" * 9 + b"\xc3(\n"),
     r"image_00004\.txt:10: description file is not valid UTF-8"),
    (lambda r: os.remove(r / "jpg/image_00006.jpg"), r"image_00006\.jpg does not exist"),
])
def test_malformed(root, change, pattern):
    change(root)
    with pytest.raises(DataError, match=pattern):
        load("flowers", str(root))


def test_skip_missing_and_options(root):
    (root / "text_c10/class_00003/image_00003.txt").write_text("only one line\n")
    ds = load("flowers", str(root), skip_missing=True)
    assert ds.num_images == 5 and ds.meta["skipped"] == {"wrong_text_count": 1}
    assert load("flowers", str(root), texts_per_image=0).texts[2] == ["only one line"]
    with pytest.raises(ConfigError, match="unknown option.*texts; valid: features"):
        load("flowers", str(root), texts=5)
