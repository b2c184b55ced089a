"""karpathy2015 on region features (`data.region_features`, issue 16 item 2): the alignment model
trains on [N, R, D], S_kl depends on the grid regions, the export cuts the same regions from a
served image and answers like the in-process model; errors name the file and the image."""

import json

import numpy as np
import pytest
import tensorflow as tf

from tests.data.region_data import flickr8k_root
from tests.towers.test_efficientnet_lite import torch_state
from tfembed.data import region_features as rf
from tfembed.data.pipeline import decode_and_resize
from tfembed.data.regions_command import main as regions_main
from tfembed.recipe import run_recipe
from tfembed.towers import regions as region_lib

CROP = 32  # tiny crops: Lite0 runs in seconds; the grid is the default 3x3 (10 regions)


@pytest.fixture(scope="module")
def region_run(tmp_path_factory):
    """A tiny Flickr8k root, its regions through a random-weight Lite0 saved as a weights file
    (so the export can rebuild it), and an exported --smoke run on them."""
    import keras

    from tfembed.towers.efficientnet_lite import efficientnet_lite0

    tmp = tmp_path_factory.mktemp("regions")
    flickr8k_root(tmp / "root")
    keras.utils.set_random_seed(0)
    state = torch_state(efficientnet_lite0(input_shape=(CROP, CROP, 3)))
    # BN variances x 0.03: a random Lite0's activations otherwise shrink to ~1e-12 by the head
    state = {k: v * 0.03 if k.endswith("running_var") else v for k, v in state.items()}
    weights = tmp / "lite0.npz"
    np.savez(weights, **state)
    out = tmp / "regions.npz"
    assert regions_main(["--data", "flickr8k", "--data-dir", str(tmp / "root"), "--out", str(out),
                         "--crop-size", str(CROP), "--weights", str(weights)]) == 0
    work = tmp / "run"
    assert run_recipe("karpathy2015", [
        "--smoke", "--data", "flickr8k", "--data-dir", str(tmp / "root"), "--workdir", str(work),
        "--set", f"data.region_features={out}", "--set", "train.batch_size=4",
        "--set", f"image.options.weights={weights}", "--export"]) == 0
    return tmp, out, work


def _bundle(work):
    from tfembed.export import run_bundle

    model, preprocessor, kwargs = run_bundle.load(str(work))
    return model, preprocessor, kwargs


def test_alignment_model_trains_on_regions_and_scores_use_them(region_run):
    tmp, out, work = region_run
    res = json.loads((work / "results.json").read_text())
    assert res["config"]["data.region_features"] == str(out)
    assert any("MRF phrase alignment" in n and "beta =" in n for n in res["notes"])
    model, preprocessor, _ = _bundle(work)
    regions = rf.load(str(out))
    x = regions["features"][:1]  # [1, 10, D]
    assert tuple(model.image_tower.input_shape[1:]) == x.shape[1:]
    words = model.encode_text(preprocessor(tf.constant(["a dog runs on the grass ."])))

    def score(f):
        return float(np.asarray(model.score(model.encode_image(f), words))[0, 0])

    base = score(x)
    changed = []
    for sign in (10.0, -10.0):  # one grid cell, pushed both ways: some word must prefer it
        y = x.copy()
        y[0, 5] = sign * np.abs(x).max()
        changed.append(abs(score(y) - base))
    assert max(changed) > 1e-3, changed
    whole = score(np.repeat(x[:, :1], 10, axis=1))  # every region = the whole image
    assert abs(whole - base) > 1e-6


def test_export_cuts_the_same_regions_as_the_extractor(region_run):
    tmp, out, work = region_run
    info = json.loads((work / "exportable" / "export.json").read_text())
    assert info["image_input"] == ["pixels", [3 * CROP, 3 * CROP]]
    model, _, kwargs = _bundle(work)
    loaded = tf.saved_model.load(str(work / "export" / "1"))
    regions = rf.load(str(out))
    name = regions["image_files"][7]
    data = (tmp / "root" / "images" / name).read_bytes()
    served = loaded.signatures["embed_image"](image=tf.constant([data]))["embedding"].numpy()
    pixels = decode_and_resize(tf.constant(data), (3 * CROP, 3 * CROP))[None]
    in_process = np.asarray(kwargs["image_fn"](pixels))
    np.testing.assert_allclose(served, in_process, atol=1e-4)  # the bundle's serving tower
    # the chain by hand: the file's boxes cut from the served pixels, the extraction weights,
    # the trained tower (the PIL-vs-TF gap is measured on real images below: a random net
    # magnifies it)
    from tfembed.towers.image import build_image_tower

    cnn = build_image_tower("efficientnet_lite0", (CROP, CROP, 3), weights=str(tmp / "lite0.npz"))
    crops = region_lib.crop_batch(pixels, tf.constant(regions["boxes"]), (CROP, CROP))
    feats = np.asarray(cnn(tf.reshape(crops, [-1, CROP, CROP, 3]))).reshape(1, 10, -1)
    np.testing.assert_allclose(served, np.asarray(model.encode_image(feats)), atol=1e-4)


def test_missing_image_and_wrong_model_kind_are_config_errors(region_run, tmp_path, capsys):
    tmp, out, _ = region_run
    regions = rf.load(str(out))
    partial = tmp_path / "partial.npz"
    rf.save(str(partial), regions["image_files"][1:], regions["features"][1:], regions["boxes"],
            3, [CROP, CROP], "efficientnet_lite0", None)
    code = run_recipe("karpathy2015", ["--smoke", "--data", "flickr8k", "--data-dir",
                                       str(tmp / "root"), "--workdir", str(tmp_path / "w"),
                                       "--set", f"data.region_features={partial}"])
    err = capsys.readouterr().err
    assert code == 2 and f"{partial}: no regions for image '1000_img.jpg'" in err
    from tfembed import data
    from tfembed.errors import ConfigError
    from tfembed.experiments.image_input import ImageInput

    dataset = data.load("flickr8k", str(tmp / "root"), region_features=str(out),
                        only_with_images=True)
    cfg = {"data": {"region_features": str(out)}, "image": {"tower": "features", "options": {}}}
    with pytest.raises(ConfigError, match="only model.kind=alignment"):
        ImageInput(cfg, dataset, "two_branch")


def test_without_the_backbone_weights_embed_image_takes_flat_region_features():
    regions = {"features": np.zeros((2, 3, 4), np.float32), "grid": 1, "crop_size": [8, 8],
               "boxes": region_lib.grid_boxes(1)}
    import keras
    tower = keras.Sequential([keras.Input((3, 4)), keras.layers.Dense(2)])
    kind, serving = region_lib.region_feature_serving(regions, None, tower)
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    assert kind == ("features", 12)
    np.testing.assert_allclose(serving(x.reshape(2, 12)), tower(x), atol=1e-6)


def test_served_lite0_regions_approximate_the_extracted_ones(shared_data):
    """Real images and weights: served (TF resize, 672 px, crop_and_resize) vs extracted (PIL)."""
    import keras

    weights = str(shared_data / "weights" / "efficientnet_lite0" / "efficientnet_lite0_torch.npz")
    cnn = region_lib.region_feature_cnn({"weights_sha256": rf.sha256(weights), "weights": weights,
                                         "backbone": "efficientnet_lite0", "crop_size": [224, 224]})
    ref = np.load(shared_data / "flickr8k" / "lite0_features.npz")
    paths = [str(shared_data / "flickr8k" / "images" / n) for n in ref["image_files"][:4]]
    extracted = rf.extract(paths, cnn, rf.grid_boxes(3), (224, 224), progress=False)
    regions = {"features": extracted, "grid": 3, "crop_size": [224, 224], "boxes": rf.grid_boxes(3)}
    identity = keras.Sequential([keras.Input((10, 1280)), keras.layers.Identity()])
    (kind, size), serving = region_lib.region_feature_serving(regions, cnn, identity)
    assert (kind, size) == ("pixels", (672, 672))
    pixels = tf.stack([decode_and_resize(tf.io.read_file(p), size) for p in paths])
    served = np.asarray(serving(pixels))
    norms = np.linalg.norm(served, axis=-1) * np.linalg.norm(extracted, axis=-1)
    cos = (served * extracted).sum(-1) / norms
    assert cos[:, 0].min() > 0.95 and cos.mean() > 0.95, cos  # measured: 0.99+, 0.98
    distance = np.abs(served[:, None] - extracted[None]).sum((2, 3))  # [served, extracted]
    np.testing.assert_array_equal(np.argmin(distance, axis=1), np.arange(len(paths)))
    cells = np.abs(served[:, None, 1:] - extracted[:, 1:, None]).sum(-1)  # [image, cell, cell]
    assert (np.argmin(cells, axis=2) == np.arange(9)).mean() > 0.8  # each cell is its own
