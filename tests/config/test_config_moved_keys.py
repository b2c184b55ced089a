"""Keys that moved to the one config shape (data.splits, model.task) keep working under their
old spelling: in --set (with a note) and in recorded configs (tfembed.config.upgrade)."""

import types

import numpy as np
import pytest

from tfembed.config import apply_overrides, moved_key, upgrade
from tfembed.errors import ConfigError

CFG = {"data": {"source": "cub", "splits": {"train": "trainval", "val": "val", "test": "test"}},
       "model": {"task": "ds_sje", "task_options": {"margin": 1.0}}}


def test_old_set_keys_land_at_their_new_place(capsys):
    out = apply_overrides(CFG, {"data.test_split": "test_unseen", "model.loss": "da_sje",
                                "model.loss_options.margin": 0.5})
    assert out["data"]["splits"]["test"] == "test_unseen"
    assert out["model"]["task"] == "da_sje" and out["model"]["task_options"]["margin"] == 0.5
    assert "test_split" not in out["data"] and "loss" not in out["model"]
    err = capsys.readouterr().err
    assert "data.test_split is now data.splits.test" in err
    assert "model.loss_options.margin is now model.task_options.margin" in err


def test_a_typo_under_a_moved_key_is_still_refused():
    with pytest.raises(ConfigError, match="unknown key"):
        apply_overrides(CFG, {"model.loss_options.margn": 0.5})


def test_recorded_configs_of_the_old_shape_are_upgraded():
    old = {"data": {"source": "cub", "train_split": "trainval", "test_split": "test"},
           "model": {"loss": "ds_sje", "loss_options": {"margin": 1.0}}}
    assert upgrade(old) == {"data": {"source": "cub", "splits": {"train": "trainval",
                                                                  "test": "test"}},
                            "model": {"task": "ds_sje", "task_options": {"margin": 1.0}}}
    assert old["data"]["train_split"] == "trainval"  # the argument is not changed


def test_moved_key():
    assert moved_key("data.val_split") == "data.splits.val"
    assert moved_key("model.loss_options.violation") == "model.task_options.violation"
    assert moved_key("model.lossy") == "model.lossy" and moved_key("train.steps") == "train.steps"


def test_gbu_role_spellings_moved_into_data_splits():
    from tfembed.config import upgrade
    from tfembed.evaluators.gbu import gbu_roles

    # A zhang2017 run recorded before data.splits held the GBU roles.
    old = {"data": {"source": "cub"}, "visual": {"train_split": "train", "epochs": 1},
           "split_names": {"trainval": "train", "test_unseen": "val", "test_seen": None}}
    new = upgrade(old)
    assert "split_names" not in new and new["visual"] == {"epochs": 1}
    assert new["data"]["splits"] == {"train": "train", "test": "val", "test_seen": None}
    ds = types.SimpleNamespace(name="toy", splits={"train": np.arange(3), "val": np.arange(3, 5),
                                                  "test_seen": np.arange(5, 6)})
    roles = gbu_roles(ds, new["data"]["splits"])
    assert sorted(roles) == ["test_unseen", "trainval"]  # test_seen=None: no GZSL
    assert roles["test_unseen"].tolist() == [3, 4]
    with pytest.raises(ConfigError, match=r"data.splits.test='test_unseen'.*its splits: test_seen"):
        gbu_roles(ds, {"train": "train", "test": "test_unseen"})
    assert upgrade({"split_names": {}}) == {}  # the old empty default goes too
