"""max_images_per_split: the smoke-run cap on a loaded data set (tfembed.data.subsample)."""

import json

import numpy as np
import pytest

from tfembed import data
from tfembed.cli import main as cli
from tfembed.data.dataset import Dataset
from tfembed.data.subsample import cap_splits
from tfembed.errors import ConfigError


def toy():
    # 10 images; class of each row; "all" lists every row, "b" rows 6..9, row 9 only in "all".
    labels = [0, 1, 0, 2, 1, 0, 2, 2, 1, 0]
    return Dataset(name="toy", image_ids=[f"i{r}" for r in range(10)], labels=labels,
                   class_names=["a", "b", "c"], texts=[[f"t{r}"] for r in range(10)],
                   splits={"all": range(10), "b": [6, 7, 8], "none": []},
                   features=np.arange(20, dtype=np.float32).reshape(10, 2),
                   meta={"source": "toy"})


def test_round_robin_over_classes_earliest_rows_first():
    small = cap_splits(toy(), 4)
    # "all": first row of classes 0, 1, 2 (rows 0, 1, 3), then the second of class 0 (row 2);
    # "b": rows 6, 7, 8 (under the cap) are kept too.
    assert small.image_ids == ["i0", "i1", "i2", "i3", "i6", "i7", "i8"]
    assert small.splits["b"].tolist() == [4, 5, 6]
    assert small.splits["all"].tolist() == list(range(7))  # keeps the rows picked for "b"
    assert small.labels.tolist() == [0, 1, 0, 2, 2, 2, 1]
    assert small.features[:, 0].tolist() == [0, 2, 4, 6, 12, 14, 16]
    assert small.texts[4] == ["t6"] and small.class_names == ["a", "b", "c"]
    assert small.meta == {"source": "toy", "subsampled": {
        "max_images_per_split": 4, "images": 7, "images_before": 10}}


def test_cap_above_the_split_sizes_keeps_every_row_in_a_split():
    big = cap_splits(toy(), 100)
    assert big.num_images == 10 and big.splits["b"].tolist() == [6, 7, 8]


@pytest.mark.parametrize("bad", [0, -1, 2.5, "3", True])
def test_rejects_a_cap_that_is_not_a_positive_integer(bad):
    with pytest.raises(ConfigError, match="max_images_per_split"):
        cap_splits(toy(), bad)


def test_any_source_takes_the_option_after_loading_everything(fixtures):
    full = data.load("cub", fixtures / "cub")
    small = data.load("cub", fixtures / "cub", max_images_per_split=1)
    # every split keeps one image, of its first class
    for name, rows in small.splits.items():
        assert len(rows) >= 1 and len(np.unique(small.labels[rows])) >= 1, name
    assert small.num_images < full.num_images
    assert small.meta["subsampled"]["images_before"] == full.num_images
    with pytest.raises(ConfigError, match="unknown option"):
        data.load("cub", fixtures / "cub", max_images_per_splits=1)  # typo still an error


def test_data_stats_cli_takes_the_option(fixtures, capsys):
    assert cli(["data", "stats", "--source", "flickr8k", "--root", str(fixtures / "flickr8k"),
                "--set", "max_images_per_split=1"]) in (0, None)
    stats = json.loads(capsys.readouterr().out)
    assert {k: v["images"] for k, v in stats["splits"].items()} == {"test": 1, "train": 1,
                                                                     "val": 1}
