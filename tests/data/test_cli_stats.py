"""`tfembed data stats` on every real-format source's fixture (JSON on stdout)."""

import json

import pytest

from tfembed.cli import main

CASES = [  # source, fixture dir, --set options, expected (images, classes, texts)
    ("cub", "cub", ["data.features=FIX/cub/features.mat"], (8, 4, 80)),
    ("flowers", "flowers", [], (6, 3, 60)),
    ("xlsa17", "xlsa17", ["dataset=CUB"], (0, 4, 0)),
    ("xlsa17", "xlsa17", ["features=FIX/xlsa17/CUB/res101.mat"], (12, 4, 0)),
    ("awa2", "awa2", ["attributes=binary"], (6, 3, 0)),
    ("flickr8k", "flickr8k", ["features=FIX/flickr8k/lite0_features.npz", "only_with_images=true"],
     (4, 4, 20)),
    ("flickr30k", "flickr30k", ["karpathy_json=dataset_flickr30k.json"], (3, 3, 15)),
    ("karpathy_json", "karpathy", [], (5, 5, 26)),
    ("coco", "coco", ["year=2014"], (5, 5, 26)),
    ("visual_genome", "visual_genome", [], (2, 2, 3)),
]


@pytest.mark.parametrize("source, directory, sets, expected", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_stats(fixtures, capsys, source, directory, sets, expected):
    argv = ["data", "stats", "--source", source, "--root", str(fixtures / directory)]
    for item in sets:
        argv += ["--set", item.replace("FIX", str(fixtures))]
    assert main(argv) in (None, 0)
    stats = json.loads(capsys.readouterr().out)
    assert (stats["images"], stats["classes"], stats["texts"]) == expected
    assert stats["splits"] or source in ("xlsa17",) and not stats["images"]


def test_errors_exit_2(fixtures, capsys):
    assert main(["data", "stats", "--source", "cub", "--root", str(fixtures / "flowers")]) == 2
    assert "classes.txt: missing class list" in capsys.readouterr().err
    assert main(["data", "stats", "--source", "coco", "--root", str(fixtures / "coco"),
                 "--set", "yaer=2014"]) == 2
    assert "unknown option(s) yaer; valid: features" in capsys.readouterr().err
