"""Smoke hyper-parameter search of recipes/reed2016.py: records, resume, val-only objective."""

import csv
import json
import os
import pathlib
import types

import numpy as np
import pytest

from tfembed import tuning
from tfembed.errors import ConfigError
from tfembed.recipe import load_recipe


REPO = pathlib.Path(__file__).resolve().parents[2]


def _reed():
    return load_recipe("reed2016")


REED = _reed()


def tune(workdir, *args):
    from tfembed.recipe import main

    argv = ["--smoke", "--workdir", str(workdir), *args]
    assert main(REED, argv) == 0


def trials_table(workdir):
    with open(workdir / "trials.csv") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("tune")
    tune(workdir, "--tune", "random", "--max-trials", "2")
    return workdir


def test_search_writes_best_and_trials_table(searched):
    rows = trials_table(searched)
    assert [r["trial_id"] for r in rows] == ["0", "1"]
    assert all(r["status"] == "COMPLETED" for r in rows)
    best = json.loads((searched / "best_hyperparameters.json").read_text())
    assert best["objective"] == "zsl_top1_per_image" and best["direction"] == "max"
    assert best["value"] == max(float(r["zsl_top1_per_image"]) for r in rows)
    assert {"train.learning_rate", "model.embed_dim", "model.task_options.margin",
            "model.task_options.violation", "text.width_scale", "text.dropout"} <= set(rows[0])
    assert best["overrides"]["text.rnn_units"] == int(16 * best["hyperparameters"]["text.width_scale"])


def test_objective_is_recomputed_from_val_split_of_trial_weights(searched):
    from tfembed.experiments import common, zero_shot_joint
    from tfembed.training.strategy import make_strategy

    run_dir = searched / "trials" / "1"
    cfg = json.loads((run_dir / "config.json").read_text())["config"]
    assert cfg["data"]["splits"]["train"] == "train" and cfg["data"]["splits"]["test"] == "val"
    assert cfg["model"]["embed_dim"] == int(trials_table(searched)[1]["model.embed_dim"])
    dataset, train_rows, rows, model, text, load_image, _ = zero_shot_joint._setup(
        cfg, make_strategy("default"))
    classes = dataset.meta["class_splits"]
    assert not set(classes["val"]) & set(classes["test"])  # the test classes stay unseen
    assert set(np.unique(dataset.labels[rows])) == set(classes["val"])
    assert not set(np.unique(dataset.labels[train_rows])) & set(classes["val"])
    common.restore_weights(model, str(run_dir))
    metrics, _ = zero_shot_joint.evaluate(model, text, load_image, dataset, rows, cfg["seed"])
    recorded = float(trials_table(searched)[1]["zsl_top1_per_image"])
    assert metrics["zsl_top1_per_image"] == pytest.approx(recorded)


def test_resume_continues_without_rerunning_finished_trials(searched):
    before = {t: os.path.getmtime(searched / "trials" / t / "results.json") for t in ("0", "1")}
    tune(searched, "--tune", "random", "--max-trials", "3")
    assert [r["trial_id"] for r in trials_table(searched)] == ["0", "1", "2"]
    assert (searched / "trials" / "2" / "results.json").exists()
    for t, mtime in before.items():
        assert os.path.getmtime(searched / "trials" / t / "results.json") == mtime


def test_retrain_best_trains_full_protocol_with_best_values(searched):
    tune(searched, "--retrain-best")
    best = json.loads((searched / "best_hyperparameters.json").read_text())
    results = json.loads((searched / "best" / "results.json").read_text())
    assert results["protocol"] == "reed_per_image"
    config = json.loads((searched / "best" / "config.json").read_text())["config"]
    assert config["data"]["splits"]["train"] == "trainval" and config["data"]["splits"]["test"] == "test"
    assert config["model"]["embed_dim"] == best["hyperparameters"]["model.embed_dim"]
    assert config["train"]["learning_rate"] == pytest.approx(best["hyperparameters"]["train.learning_rate"])


def test_hyperband_epochs_become_steps_and_continue_the_parent_trial():
    import keras_tuner
    from tfembed.tuning import HYPERBAND_MAX_EPOCHS, RecipeHyperModel

    cfg = REED.get_config()  # 1200 steps -> 134 steps per Hyperband epoch
    hypermodel = RecipeHyperModel(cfg, cfg, REED.search_space, REED.run)
    hp = keras_tuner.HyperParameters()
    REED.search_space(hp, cfg)
    hp.values.update({"tuner/epochs": 3, "tuner/initial_epoch": 1})
    assert hypermodel.build(hp)["train"]["steps"] == 3 * -(-1200 // HYPERBAND_MAX_EPOCHS)
    assert "tuner/epochs" not in hypermodel.overrides(hp)
    oracle = tuning.tuner.make_oracle("hyperband", keras_tuner.Objective("x", "max"), 4, 0)
    assert oracle.max_epochs == HYPERBAND_MAX_EPOCHS and oracle.max_trials == 4


def test_recipe_without_search_space_is_a_clear_error(tmp_path):
    bare = types.ModuleType("bare")
    with pytest.raises(ConfigError, match="search_space"):
        tuning.tune(bare, REED.get_config(smoke=True), REED.run, str(tmp_path), None, "random", 1)


def test_validation_protocol_touching_test_classes_is_refused(tmp_path):
    leaky = types.ModuleType("leaky")
    leaky.search_space = REED.search_space
    leaky.validation_config = lambda cfg: cfg  # would score on the test split
    with pytest.raises(ConfigError, match="validation split"):
        tuning.tune(leaky, REED.get_config(smoke=True), REED.run, str(tmp_path), None, "random", 1)
