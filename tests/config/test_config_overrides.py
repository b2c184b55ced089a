import pytest

from tfembed.config import apply_overrides, flatten, parse_value
from tfembed.errors import ConfigError

BASE = {"train": {"steps": 10, "learning_rate": 0.1, "optimizer": "adam", "flag": False},
        "data": {"source": "x"}, "image": {"tower": "t", "options": {}}}


def test_parse_value():
    assert parse_value("3") == 3 and parse_value("0.5") == 0.5 and parse_value("true") is True
    assert parse_value("none") is None and parse_value("[1, 2]") == [1, 2]
    assert parse_value("rmsprop") == "rmsprop"


def test_overrides_keep_types_and_do_not_mutate():
    cfg = apply_overrides(BASE, {"train.steps": 5, "train.learning_rate": 1, "train.flag": True})
    assert cfg["train"] == {"steps": 5, "learning_rate": 1.0, "optimizer": "adam", "flag": True}
    assert BASE["train"]["steps"] == 10


def test_open_sections_accept_new_keys():
    cfg = apply_overrides(BASE, {"data.features": "f.mat", "image.options.weights": "w.npz"})
    assert cfg["data"]["features"] == "f.mat" and cfg["image"]["options"]["weights"] == "w.npz"


@pytest.mark.parametrize("key,value,match", [
    ("train.stpes", 1, "train.stpes: unknown key; valid keys here: flag, learning_rate"),
    ("trian.steps", 1, "unknown section 'trian'"),
    ("train.steps", "many", "expected int"),
    ("train.flag", 1, "expected true/false"),
    ("train", 1, "is a section"),
])
def test_bad_overrides_name_the_key(key, value, match):
    with pytest.raises(ConfigError, match=match):
        apply_overrides(BASE, {key: value})


def test_flatten():
    assert flatten({"a": {"b": 1}, "c": 2}) == {"a.b": 1, "c": 2}
