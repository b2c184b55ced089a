"""Declared choices (issue 14, item 6): a value the code would look up in a dispatch table and
not find is a ConfigError listing the valid ones, raised by resolve_config before any work."""

import pytest

from tfembed.config import CHOICES, check_choices
from tfembed.errors import ConfigError
from tfembed.recipe import build_parser, load_recipe, resolve_config, run_recipe

RECIPES = ["reed2016", "zhang2017", "karpathy2015", "karpathy2015_captions", "wang2016",
           "gordo2017", "wsabie", "devise"]


def _resolve(name, *argv):
    return resolve_config(load_recipe(name).get_config, build_parser(name, "").parse_args(argv))


@pytest.mark.parametrize("name", RECIPES)
@pytest.mark.parametrize("smoke", [False, True])
def test_every_recipe_default_is_a_declared_choice(name, smoke):
    _resolve(name, *(["--smoke"] if smoke else []))


@pytest.mark.parametrize("name,key,value,valid", [
    ("reed2016", "train.optimizer", "adamw", "adagrad, adam, rmsprop, sgd"),
    ("reed2016", "text.encoder", "char_transformer", "attributes, bilstm, bow"),
    ("reed2016", "model.task", "sje", "da_sje, ds_sje"),
    ("reed2016", "model.scorer", "l2", "cosine, dot, neg_sq_distance"),
    ("reed2016", "image.tower", "resnet", "conv_small, efficientnet_lite0, features"),
    ("reed2016", "model.task_options.violation", "top_k", "max, sum"),
    ("karpathy2015", "model.kind", "fusion", "alignment, two_branch"),
    ("karpathy2015_captions", "model.cell", "lstm", "gru, simple_rnn"),
    ("gordo2017", "image.pooling", "avg", "gem, rmac"),
    ("wsabie", "labels.source", "tags", "classes, terms"),
])
def test_unknown_choice_names_key_and_valid_values(name, key, value, valid):
    with pytest.raises(ConfigError, match=f"--set {key}={value}: unknown choice") as err:
        _resolve(name, "--smoke", "--set", f"{key}={value}")
    assert valid in str(err.value)


def test_list_valued_keys_check_each_item():
    with pytest.raises(ConfigError, match="unknown choice 'wordz'"):
        _resolve("zhang2017", "--smoke", "--set", "model.semantics=['attributes','wordz']")
    cfg = _resolve("zhang2017", "--smoke", "--set", "model.semantics=['words']")
    assert cfg["model"]["semantics"] == ["words"]


def test_a_recipe_can_declare_its_own_choices():
    cfg = {"train": {"optimizer": "adam"}, "mode": "b"}
    check_choices(cfg)  # `mode` is declared nowhere: anything goes
    with pytest.raises(ConfigError, match=r"mode='b': unknown choice 'b'; valid: a, c"):
        check_choices(cfg, choices={"mode": ("a", "c")})


def test_declared_tables_import():
    cfg = _resolve("reed2016", "--smoke")
    for key, spec in CHOICES.items():
        if isinstance(spec, str):  # "module:NAME" must name a real dispatch table
            module, name = spec.split(":")
            assert len(getattr(__import__(module, fromlist=[name]), name)) > 0, key
    assert cfg["train"]["optimizer"] == "rmsprop"


def test_recipe_refuses_before_any_work(tmp_path, capsys):
    workdir = tmp_path / "run"
    assert run_recipe("reed2016", ["--smoke", "--workdir", str(workdir),
                                   "--set", "train.optimizer=adamw"]) == 2
    err = capsys.readouterr().err
    assert "reed2016: error: --set train.optimizer=adamw: unknown choice 'adamw'; valid: " \
           "adagrad, adam, rmsprop, sgd" in err
    assert not workdir.exists()  # nothing loaded, built or written


def test_make_optimizer_unknown_name_is_a_config_error():
    from tfembed.training.trainer import make_optimizer

    with pytest.raises(ConfigError, match="unknown optimizer 'adamw'; valid: adagrad, adam"):
        make_optimizer("adamw", 0.1)
