"""python -m tfembed.reports.run_all: runs recipe commands, skips missing data, writes the report."""

import json

from tfembed.reports import run_all


def test_every_run_names_a_recipe_and_data_it_checks():
    for name, (recipe, args, needs) in run_all.RUNS.items():
        assert (run_all.REPO_RECIPES / f"{recipe}.py").exists(), name
        assert (needs is None) == (not any("{D}" in a for a in args)), name


def test_missing_data_is_skipped_and_a_smoke_run_lands_in_the_report(tmp_path, capsys):
    out, report = tmp_path / "runs", tmp_path / "REPRODUCTION.md"
    code = run_all.main(["--out-dir", str(out), "--data-root", str(tmp_path / "no_data"),
                         "--report", str(report), "--smoke",
                         "--only", "reed2016-xlsa17-cub", "reed2016-synthetic"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "[skip] reed2016-xlsa17-cub" in printed and "[ok] reed2016-synthetic" in printed
    res = json.loads((out / "reed2016-synthetic" / "results.json").read_text())
    assert res["recipe"] == "reed2016" and "--smoke" in res["command"]
    text = report.read_text()
    assert "| reed2016 | synthetic_birds | `reed_per_image`" in text
    assert "--workdir" in text.split("## Commands")[1]


def test_a_failing_run_is_reported_and_the_exit_code_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(run_all.RUNS, "broken", ("reed2016", ["--set", "no.such_key=1"], None))
    code = run_all.main(["--out-dir", str(tmp_path), "--only", "broken", "--smoke",
                         "--report", str(tmp_path / "R.md")])
    assert code == 1
    assert "[FAILED] broken" in capsys.readouterr().out
    assert "no.such_key" in (tmp_path / "broken.log").read_text()
