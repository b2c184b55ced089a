"""Embedding Projector files of a run, and the run fields results.json records."""

import json
import os

import numpy as np
import pytest

from tfembed.reports import projector

IDS = ["001.red/img_1", "001.red/img_2", "002.blue/img_3"]


def _bundle(run_dir, gallery=True):
    os.makedirs(os.path.join(run_dir, "exportable"))
    arrays = {"prototype_names": np.array(["001.red", "002.blue"]),
              "prototype_embeddings": np.arange(8, dtype=np.float32).reshape(2, 4)}
    if gallery:
        arrays.update(gallery_names=np.array(IDS),
                      gallery_embeddings=np.arange(12, dtype=np.float32).reshape(3, 4) / 7)
    np.savez(os.path.join(run_dir, "exportable", "baked.npz"), **arrays)


def test_projector_files_match_the_bundle(tmp_path, monkeypatch):
    tf = pytest.importorskip("tensorflow")
    from PIL import Image

    run = str(tmp_path / "run")
    _bundle(run)
    shades = [np.full((10, 12, 3), v, np.uint8) for v in (10, 200)]
    monkeypatch.setattr(projector, "run_pictures", lambda d, ids: shades + [None])
    log_dir = projector.write(run)
    assert log_dir == os.path.join(run, "tensorboard")
    rows = open(os.path.join(log_dir, "gallery_metadata.tsv")).read().splitlines()
    assert rows[0] == "id\tclass" and len(rows) - 1 == 3
    assert rows[3] == "002.blue/img_3\t002.blue"
    assert open(os.path.join(log_dir, "prototype_metadata.tsv")).read().splitlines() == \
        ["001.red", "002.blue"]
    sprite = np.asarray(Image.open(os.path.join(log_dir, "gallery_sprite.png")))
    assert sprite.shape == (2 * projector.THUMB, 2 * projector.THUMB, 3)  # 3 images: 2 x 2
    assert sprite[0, 0, 0] == 10 and sprite[0, projector.THUMB, 0] == 200
    assert sprite[projector.THUMB, 0, 0] == 128  # no picture: grey
    config = open(os.path.join(log_dir, "projector_config.pbtxt")).read()
    assert 'image_path: "gallery_sprite.png"' in config and "single_image_dim: 64" in config
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(log_dir))
    np.testing.assert_allclose(reader.get_tensor(projector.TENSOR_NAME.format("gallery")),
                               np.arange(12).reshape(3, 4) / 7, rtol=1e-6)
    assert reader.get_tensor(projector.TENSOR_NAME.format("prototype")).shape == (2, 4)
    assert any(f.startswith("events.out.tfevents") for f in os.listdir(log_dir))


def test_sprite_thumbnails_shrink_to_fit_tensorboards_limit():
    grid, size = projector.sprite([None] * 200 ** 2, size=64)
    assert size == 8192 // 200 and grid.shape == (200 * size, 200 * size, 3)


def test_bundles_found_once_each_and_only_when_new(tmp_path):
    _bundle(str(tmp_path / "attributes" / "dem"), gallery=False)
    _bundle(str(tmp_path / "export" / "ignored"), gallery=False)
    assert projector.bundle_dirs(str(tmp_path)) == [str(tmp_path / "attributes" / "dem")]
    assert projector.bundle_dirs(str(tmp_path), since=2e9) == []


def test_results_json_gets_the_export_written_beside_it(tmp_path):
    from tfembed import recipe
    from tfembed.experiments import common

    paths = {}
    for part in ("attributes/dem", "attributes/eszsl"):
        paths[part] = str(tmp_path / part / "results.json")
        os.makedirs(os.path.dirname(paths[part]))
        with open(paths[part], "w") as f:
            json.dump({"metrics": {}, "smoke": True, "export": None}, f)
    export = str(tmp_path / "attributes" / "dem" / "export" / "3")
    common.RUN.update(written=list(paths.values()))
    recipe.after_run(str(tmp_path), {("attributes", "dem"): {"export": export},
                                     ("attributes", "eszsl"): {}, "metrics": {}}, 2e9)
    read = {k: json.load(open(p)) for k, p in paths.items()}
    assert read["attributes/dem"]["export"] == export
    assert read["attributes/eszsl"]["export"] is None and read["attributes/dem"]["smoke"]
