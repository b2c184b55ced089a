"""`tfembed data regions` (tfembed.data.region_features): file layout, region boxes and crops,
errors naming the file, and the whole-image row against ../shared/data's Lite0 features."""

import numpy as np
import pytest

from tests.data.region_data import flickr8k_root
from tfembed.data import region_features as rf
from tfembed.data.regions_command import main
from tfembed.errors import ConfigError, DataError

WEIGHTS = "weights/efficientnet_lite0/efficientnet_lite0_torch.npz"


def test_region_pixels_cut_the_grid_row_by_row(tmp_path):
    images = flickr8k_root(tmp_path / "root", splits=(("train", 1),))
    (name, pixels), = images.items()
    crops = rf.region_pixels(tmp_path / "root" / "images" / name, rf.grid_boxes(3), (8, 8))
    assert crops.shape == (10, 8, 8, 3) and crops.dtype == np.uint8
    assert np.abs(crops[0, 0, 0].astype(int) - pixels[0, 0]).max() <= 1  # whole image: its corner
    for k in range(9):  # cell k = row k // 3, column k % 3: one flat colour
        r, c = divmod(k, 3)
        expected = pixels[r * 12 + 6, c * 16 + 8]
        assert np.abs(crops[1 + k].astype(int) - expected.astype(int)).max() <= 1, k


def test_pixel_box_rounds_and_keeps_one_pixel():
    assert rf.pixel_box([0, 0, 1, 1], 200, 150) == (0, 0, 200, 150)
    assert rf.pixel_box([1 / 3, 2 / 3, 2 / 3, 1], 200, 150) == (133, 50, 200, 100)
    assert rf.pixel_box([0.5, 0.5, 0.5, 0.5], 10, 10) == (5, 5, 6, 6)


def test_command_writes_the_documented_layout(tmp_path, capsys):
    flickr8k_root(tmp_path / "root")
    out = tmp_path / "out" / "regions.npz"
    assert main(["--data", "flickr8k", "--data-dir", str(tmp_path / "root"), "--out", str(out),
                 "--backbone", "conv_small", "--crop-size", "16"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("[regions]") == 4 and " s\n" in printed  # one line per stage + time
    regions = rf.load(str(out))
    assert regions["features"].shape == (12, 10, 128) and regions["features"].dtype == np.float32
    assert regions["image_files"][0] == "1000_img.jpg" and len(set(regions["image_files"])) == 12
    boxes = regions["boxes"]
    np.testing.assert_allclose(boxes[0], [0, 0, 1, 1])
    np.testing.assert_allclose(boxes[1], [0, 0, 1 / 3, 1 / 3], atol=1e-6)
    np.testing.assert_allclose(boxes[9], [2 / 3, 2 / 3, 1, 1], atol=1e-6)
    areas = (boxes[1:, 2] - boxes[1:, 0]) * (boxes[1:, 3] - boxes[1:, 1])
    np.testing.assert_allclose(areas.sum(), 1.0, atol=1e-6)  # the cells tile the image
    assert regions["grid"] == 3 and regions["crop_size"] == [16, 16]
    assert regions["backbone"] == "conv_small" and regions["weights_sha256"] == ""
    assert "BILINEAR" in regions["preprocessing"]
    # distinct cells give distinct features (the CNN saw different crops)
    assert np.abs(regions["features"][0, 1] - regions["features"][0, 2]).max() > 1e-6


def test_bad_files_name_the_file_and_the_missing_image(tmp_path):
    path = str(tmp_path / "r.npz")
    rf.save(path, ["a.jpg", "b.jpg"], np.zeros((2, 5, 4)), rf.grid_boxes(2), 2, (8, 8),
            "conv_small", None)
    with pytest.raises(ConfigError, match=r"r\.npz: no regions for image 'c\.jpg' \(1 of"):
        rf.rows_for(rf.load(path), ["b.jpg", "c.jpg"], path)
    np.testing.assert_array_equal(rf.rows_for(rf.load(path), ["x/b.jpg", "a.jpg"], path), [1, 0])
    np.savez(tmp_path / "bad.npz", image_files=np.array(["a.jpg"]), features=np.zeros((1, 4)))
    with pytest.raises(DataError, match="bad.npz: region feature file lacks boxes"):
        rf.load(str(tmp_path / "bad.npz"))
    with pytest.raises(ConfigError, match="no such file"):
        rf.load(str(tmp_path / "absent.npz"))


def test_whole_image_row_matches_shared_lite0_features(tmp_path, shared_data):
    from tfembed.towers.image import build_image_tower

    ref = np.load(shared_data / "flickr8k" / "lite0_features.npz")
    names = [str(f) for f in ref["image_files"][[0, 500]]]
    cnn = build_image_tower("efficientnet_lite0", (224, 224, 3), weights=str(shared_data / WEIGHTS))
    paths = [str(shared_data / "flickr8k" / "images" / n) for n in names]
    feats = rf.extract(paths, cnn, rf.grid_boxes(3), (224, 224), progress=False)
    assert feats.shape == (2, 10, 1280)
    np.testing.assert_allclose(feats[:, 0], ref["features"][[0, 500]], atol=1e-4)
    assert np.abs(feats[:, 1:] - feats[:, :1]).max() > 0.5  # the cells are other pictures


def test_smoke_cuts_small_crops_of_the_smoke_images(tmp_path):
    flickr8k_root(tmp_path / "root", splits=(("train", 40), ("dev", 2), ("test", 2)))
    out = tmp_path / "smoke.npz"
    assert main(["--data", "flickr8k", "--data-dir", str(tmp_path / "root"), "--out", str(out),
                 "--backbone", "conv_small", "--smoke"]) == 0
    regions = rf.load(str(out))
    assert regions["crop_size"] == [64, 64] and len(regions["image_files"]) == 32 + 2 + 2
