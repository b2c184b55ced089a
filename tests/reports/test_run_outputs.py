"""A real (smoke) recipe run: results.json records smoke and its export, the printed table
has units, each stage printed one line, and the Embedding Projector files are there with the
gallery's own pictures (fetched from the run's recorded data by tfembed.app.pictures)."""

import json
import os

import numpy as np
import pytest


@pytest.fixture(scope="module")
def reed_run(tmp_path_factory):
    from tfembed.recipe import run_recipe

    workdir = str(tmp_path_factory.mktemp("reed"))
    capture = pytest.MonkeyPatch()
    import io
    import sys
    out, err = io.StringIO(), io.StringIO()
    capture.setattr(sys, "stdout", out), capture.setattr(sys, "stderr", err)
    try:
        code = run_recipe("reed2016", ["--smoke", "--export", "--workdir", workdir])
    finally:
        capture.undo()
    assert code == 0, err.getvalue()[-3000:]
    return workdir, out.getvalue(), err.getvalue()


def test_results_json_records_smoke_and_the_export(reed_run):
    workdir, _, _ = reed_run
    res = json.load(open(os.path.join(workdir, "results.json")))
    assert res["smoke"] is True
    assert res["export"] == os.path.abspath(os.path.join(workdir, "export", "1"))
    assert os.path.isfile(os.path.join(res["export"], "saved_model.pb"))


def test_printed_table_has_units_and_stages_one_line_each(reed_run):
    _, out, err = reed_run
    assert "smoke run" in out and "zsl_top1_per_image" in out
    row = next(line for line in out.splitlines() if line.startswith("zsl_top1_per_image "))
    assert row.split()[-1] == "%"
    stages = [line for line in err.splitlines() if line.startswith(("embed ", "evaluate "))]
    assert any(s.startswith("embed images: 24 images in ") for s in stages), err[-2000:]
    assert any(s.startswith("evaluate zero-shot") for s in stages)
    assert "\r" not in "".join(stages)  # not a terminal: finished lines only


def test_projector_has_the_gallery_with_labels_and_sprite(reed_run):
    tf = pytest.importorskip("tensorflow")
    from PIL import Image

    workdir, out, _ = reed_run
    log_dir = os.path.join(workdir, "tensorboard")
    assert f"tensorboard --logdir {log_dir}" in out
    baked = np.load(os.path.join(workdir, "exportable", "baked.npz"))
    n = len(baked["gallery_names"])
    rows = open(os.path.join(log_dir, "gallery_metadata.tsv")).read().splitlines()[1:]
    assert [r.split("\t")[0] for r in rows] == [str(i) for i in baked["gallery_names"]]
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(log_dir))
    np.testing.assert_array_equal(reader.get_tensor("gallery/.ATTRIBUTES/VARIABLE_VALUE"),
                                  baked["gallery_embeddings"].reshape(n, -1))
    sprite = np.asarray(Image.open(os.path.join(log_dir, "gallery_sprite.png")))
    side = int(np.ceil(np.sqrt(n))) * 64
    assert sprite.shape == (side, side, 3)
    assert sprite[:64, :64].std() > 0  # a real picture, not the grey stand-in
