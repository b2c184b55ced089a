"""Seed means: runs equal but for the seed are averaged (mean, min, max by hand); a lone run,
a smoke run or two runs of one seed make no group."""

from tfembed.reports import seed_means


def _res(seed, top1, encoder="word", smoke=False):
    return ("p", {"recipe": "reed2016", "dataset": "cub", "protocol": "reed_per_image",
                  "smoke": smoke, "config": {"seed": seed, "text.encoder": encoder},
                  "metrics": {"top1": top1}})


def _lines(runs):
    return seed_means.lines(runs, lambda r: r["config"]["text.encoder"],
                            lambda r: [("top-1", ["top1"])], lambda r, k: r["metrics"][k] * 100,
                            lambda v, k: f"{v:.1f}")


def test_groups_of_seeds_are_averaged():
    runs = [_res(0, 0.75), _res(1, 0.72), _res(2, 0.68), _res(0, 0.70, "char"),
            _res(3, 0.10, smoke=True)]
    out = _lines(runs)
    rows = [line for line in out if line.startswith("| reed2016")]
    assert rows == ["| reed2016 | cub | `reed_per_image` | word | 0, 1, 2 | "
                    "top-1: 71.7 [68.0, 75.0] |"]  # (75 + 72 + 68) / 3; char has one run


def test_no_group_without_distinct_seeds():
    assert _lines([_res(0, 0.5), _res(0, 0.6)]) == []
    assert _lines([_res(0, 0.5)]) == []
