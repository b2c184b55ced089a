"""Resuming a checkpoint directory under a different configuration (issue 14, item 3): a clear
ConfigError naming the differing keys, before anything is overwritten; keys that only change
how long or how often (train.steps, ...) may differ; directories of older code (no recorded
configuration) still resume, with a warning; smoke runs have a workdir of their own."""

import json
import shutil

import pytest

from tfembed.recipe import run_recipe


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("reed_resume")
    assert run_recipe("reed2016", ["--smoke", "--workdir", str(workdir)]) == 0
    return workdir


@pytest.fixture
def run_dir(smoke_run, tmp_path):
    """A private copy of the finished 6-step smoke run."""
    shutil.copytree(smoke_run, tmp_path / "run")
    return tmp_path / "run"


def _timing(workdir):
    return json.loads((workdir / "results.json").read_text())["timing"]


def test_different_configuration_is_a_clear_error_naming_the_keys(run_dir, capsys):
    config_json = (run_dir / "config.json").read_text()
    code = run_recipe("reed2016", ["--smoke", "--workdir", str(run_dir),
                                   "--set", "model.embed_dim=16", "--set", "text.rnn_units=8"])
    err = capsys.readouterr().err
    assert code == 2, err[-2000:]
    assert "reed2016: error: " in err and "different configuration" in err
    assert "model.embed_dim: 32 -> 16" in err and "text.rnn_units: 16 -> 8" in err
    assert "train.steps" not in err
    assert (run_dir / "config.json").read_text() == config_json  # `tfembed export` still works


def test_more_steps_resumes(run_dir):
    assert run_recipe("reed2016", ["--smoke", "--workdir", str(run_dir),
                                   "--set", "train.steps=8", "--set", "train.log_every=4"]) == 0
    timing = _timing(run_dir)
    assert timing["resumed_from"] == 6 and timing["steps"] == 8


def test_checkpoints_without_a_recorded_config_resume_with_a_warning(run_dir, capsys):
    (run_dir / "checkpoints" / "config.json").unlink()  # as written by older code
    assert run_recipe("reed2016", ["--smoke", "--workdir", str(run_dir),
                                   "--set", "train.steps=8"]) == 0
    assert "no recorded configuration" in capsys.readouterr().err
    assert _timing(run_dir)["resumed_from"] == 6
    assert (run_dir / "checkpoints" / "config.json").exists()  # checked from now on


def test_trainer_checks_the_recorded_config(tmp_path, toy_trainer):
    """Experiments whose trainers live in sub-directories are checked by the Trainer itself."""
    from tfembed.errors import ConfigError

    cfg = {"model": {"dim": 3}, "train": {"steps": 4, "log_every": 2}, "plot": True}
    trainer, dataset_fn = toy_trainer(tmp_path, steps=4, config=cfg)
    trainer.fit(dataset_fn)
    other = {"model": {"dim": 5}, "train": {"steps": 4, "log_every": 2}, "plot": True}
    trainer, dataset_fn = toy_trainer(tmp_path, steps=4, config=other)
    with pytest.raises(ConfigError, match=r"model\.dim: 3 -> 5"):
        trainer.fit(dataset_fn)
    longer = {"model": {"dim": 3}, "train": {"steps": 6, "log_every": 3}, "plot": False}
    trainer, dataset_fn = toy_trainer(tmp_path, steps=6, config=longer)
    assert trainer.fit(dataset_fn)["resumed_from"] == 4


def test_unreadable_config_record_resumes_with_a_warning(tmp_path, toy_trainer, capsys):
    cfg = {"model": {"dim": 3}, "train": {"steps": 4}}
    trainer, dataset_fn = toy_trainer(tmp_path, steps=4, config=cfg)
    trainer.fit(dataset_fn)
    (tmp_path / "checkpoints" / "config.json").write_text("{not json")
    trainer, dataset_fn = toy_trainer(tmp_path, steps=6, config=cfg)
    assert trainer.fit(dataset_fn)["resumed_from"] == 4
    assert "unreadable record" in capsys.readouterr().err
    assert json.loads((tmp_path / "checkpoints" / "config.json").read_text())["config"] == cfg


def test_save_config_checks_the_runs_sub_trainers_before_replacing_config_json(tmp_path):
    """Gordo's trainers live in visual/ and joint/; best/ and trials/ are runs of their own."""
    from tfembed.errors import ConfigError
    from tfembed.experiments import common
    from tfembed.training.checkpoints import record_config

    cfg = {"model": {"dim": 3}}
    for sub in ("visual", "best", "trials/1"):
        (tmp_path / sub / "checkpoints").mkdir(parents=True)
        (tmp_path / sub / "checkpoints" / "ckpt-2.index").write_bytes(b"")
        record_config({"model": {"dim": 5 if sub == "visual" else 7}}, tmp_path / sub / "checkpoints")
    (tmp_path / "best" / "config.json").write_text("{}")
    with pytest.raises(ConfigError, match=r"visual holds checkpoints.*model\.dim: 5 -> 3"):
        common.save_config(cfg, str(tmp_path), "x")
    assert not (tmp_path / "config.json").exists()
    record_config({"model": {"dim": 3}}, tmp_path / "visual" / "checkpoints")
    common.save_config(cfg, str(tmp_path), "x")  # best/ and trials/1 are not this run's
    assert json.loads((tmp_path / "config.json").read_text())["config"] == cfg


def test_smoke_runs_default_to_their_own_workdir():
    from tfembed.recipe import default_workdir

    assert default_workdir("reed2016") == "runs/reed2016"
    assert default_workdir("reed2016", smoke=True) == "runs/reed2016-smoke"


def test_resume_rule_keys():
    from tfembed.training.checkpoints import config_differences

    # A record of the older shape (data.test_split) compares at its new key (data.splits.test).
    old = {"train": {"steps": 10, "checkpoint_every": 5, "learning_rate": 0.1},
           "export": {"top_k": 10}, "data": {"source": "cub", "test_split": "test",
                                              "train_split": "trainval"}}
    new = {"train": {"steps": 30, "checkpoint_every": 9, "learning_rate": 0.1},
           "export": {"top_k": 5, "enabled": True},
           "data": {"source": "cub", "splits": {"train": "trainval", "test": "val"},
                    "features": "f.mat"}}
    [(key, before, after)] = config_differences(old, new)
    assert (key, repr(before), after) == ("data.features", "(absent)", "f.mat")


def test_keys_added_to_the_code_since_the_record_resume_with_a_warning(tmp_path, capsys):
    """A newer version adds config keys (defaulting to the old behaviour): a finished run made
    before them must still re-evaluate; a changed recorded key still refuses."""
    from tfembed.errors import ConfigError
    from tfembed.training.checkpoints import check_config, record_config

    ckpt = tmp_path / "checkpoints"
    ckpt.mkdir()
    (ckpt / "ckpt-3.index").write_bytes(b"")
    record_config({"model": {"dim": 3}, "image": {"tower": "features"}}, ckpt)
    newer = {"model": {"dim": 3}, "image": {"tower": "features", "projection": "linear"}}
    check_config(newer, str(ckpt))
    assert "image.projection='linear'" in capsys.readouterr().err
    with pytest.raises(ConfigError, match=r"model\.dim: 3 -> 4"):
        check_config({**newer, "model": {"dim": 4}}, str(ckpt))
