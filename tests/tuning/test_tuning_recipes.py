"""`--smoke --tune random --max-trials 2` of every recipe besides reed2016 (covered by
test_tuning.py), and per recipe: its validation protocol trains and scores away from test."""

import csv
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from tfembed.tuning import protocol
from tfembed.recipe import load_recipe


REPO = pathlib.Path(__file__).resolve().parents[2]
RECIPES = ["zhang2017", "karpathy2015", "wang2016", "gordo2017", "wsabie", "devise"]
ZERO_SHOT = {"zhang2017", "devise"}


def recipe(name):
    return load_recipe(name)


@pytest.fixture(scope="module")
def searches(tmp_path_factory):
    """The six searches, two at a time (one per core: each is mostly TF start-up)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    pending, running, done = list(RECIPES), {}, {}
    while pending or running:
        while pending and len(running) < 2:
            name = pending.pop(0)
            workdir = tmp_path_factory.mktemp(f"tune_{name}")
            cmd = [sys.executable, str(REPO / "recipes" / f"{name}.py"), "--smoke", "--tune",
                   "random", "--max-trials", "2", "--workdir", str(workdir)]
            running[name] = (workdir, subprocess.Popen(
                cmd, cwd=str(workdir), env=env, text=True, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT))
        name = next(iter(running))
        workdir, proc = running.pop(name)
        out, _ = proc.communicate(timeout=300)
        done[name] = (workdir, proc.returncode, out)
    return done


@pytest.mark.parametrize("name", RECIPES)
def test_smoke_search_writes_records_with_the_recipe_objective(searches, name):
    workdir, code, out = searches[name]
    assert code == 0, out[-3000:]
    objective = recipe(name).TUNE_OBJECTIVE
    with open(workdir / "trials.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["trial_id"] for r in rows] == ["0", "1"]
    assert all(r["status"] == "COMPLETED" for r in rows)
    assert list(rows[0])[2] == objective  # trial_id, status, objective, hyper-parameters...
    best = json.loads((workdir / "best_hyperparameters.json").read_text())
    assert best["objective"] == objective
    assert best["value"] == max(float(r[objective]) for r in rows)
    assert best["overrides"]["train.learning_rate"] == pytest.approx(
        best["hyperparameters"]["train.learning_rate"])
    trial_cfg = json.loads(next((workdir / "trials" / "0").rglob("results.json")).read_text())
    assert trial_cfg["protocol"].endswith("_val")


def _roles(name, cfg, dataset):
    """(training rows, scored rows) the experiment uses under `cfg`; test rows of the full
    protocol."""
    s = dataset.splits
    if name in ("zhang2017", "devise"):
        from tfembed.evaluators.gbu import gbu_roles
        roles = gbu_roles(dataset, cfg["data"]["splits"])
        assert "test_seen" not in roles  # no GZSL: it would score on test_seen images
        # DEM's model selection also fits on val_train: a training role.
        train = np.union1d(roles["trainval"], roles.get("train", roles["trainval"]))
        return train, roles["test_unseen"]
    return s[cfg["data"]["splits"]["train"]], s[cfg["data"]["splits"]["test"]]


@pytest.mark.parametrize("name", RECIPES)
def test_validation_config_never_touches_test_rows_or_classes(name):
    from tfembed.experiments.common import load_dataset

    module = recipe(name)
    full = module.get_config(smoke=True)
    val = protocol.validation_config(full, module)
    protocol.check_disjoint(full, val)  # the shared check, where the layout allows it
    dataset = load_dataset(val["data"])
    train, scored = _roles(name, val, dataset)
    if name in ZERO_SHOT:
        test = np.concatenate([dataset.splits["test_unseen"], dataset.splits["test_seen"]])
    else:
        test = dataset.splits[full["data"]["splits"]["test"]]
    assert len(scored) and len(train)
    assert not np.intersect1d(scored, test).size and not np.intersect1d(scored, train).size
    assert not np.intersect1d(train, test).size
    if name in ZERO_SHOT:  # scored: the val classes, unseen in training and not test_unseen
        labels = dataset.labels  # (val classes are seen ones at test time: test_seen has them)
        assert set(np.unique(labels[scored])) == set(dataset.meta["class_splits"]["val"])
        assert not np.intersect1d(labels[scored], labels[train]).size
        assert not np.intersect1d(labels[scored], labels[dataset.splits["test_unseen"]]).size


def test_wsabie_class_annotation_has_no_validation_protocol():
    from tfembed.errors import ConfigError

    module = recipe("wsabie")
    with pytest.raises(ConfigError, match="validation"):
        protocol.validation_config(module.get_config("synthetic_birds", smoke=True), module)
