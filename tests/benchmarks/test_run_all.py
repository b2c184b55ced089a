"""run_all: the markdown summary, failure handling and the subprocess contract (fake scripts,
no TensorFlow, no timing)."""

import json
import os

import run_all

MACHINE = {"cpu": "Test CPU (avx2)", "cores": 2, "tensorflow": "2.21.0", "intra_op_threads": "auto",
           "inter_op_threads": "auto", "load_avg_start": [0.1, 0.2, 0.3]}


def result(name, rows):
    return {"benchmark": name, "quick": True, "machine": MACHINE, "started": "2026-01-01T00:00",
            "seconds": 1.0, "results": {}, "summary": rows}


def test_summary_table_lists_rows_and_a_failed_script():
    ok = {"name": "matmul_roofline", "returncode": 0, "stderr_tail": "", "data": result(
        "matmul_roofline", [{"figure": "roofline", "value": 198.6, "unit": "GFLOP/s",
                             "target": "≥ 50%", "met": False, "note": "a | b"}])}
    failed = {"name": "train_step", "returncode": 1, "stderr_tail": "ValueError: boom",
              "data": None}
    text = run_all.build_summary([ok, failed], "2026-01-01T00:00+00:00", True, ["gallery_search"])
    lines = text.splitlines()
    assert lines[0] == "# Benchmark summary"
    assert "Test CPU (avx2), 2 cores, TensorFlow 2.21.0" in text and "--quick" in text
    header = lines.index("| benchmark | figure | value | unit | target | met | note |")
    body = lines[header + 2:]
    assert body[0] == "| matmul_roofline | roofline | 198.6 | GFLOP/s | ≥ 50% | **no** | a \\| b |"
    assert body[1] == ("| train_step | script failed (exit 1) | failed | – | – | **no** | "
                       "ValueError: boom |")
    assert "Not run (no script): gallery_search." in text


FAKE_OK = '''
import json, sys
out = sys.argv[sys.argv.index("--out") + 1]
json.dump({"benchmark": "good", "quick": "--quick" in sys.argv, "machine": {"cpu": "X", "cores": 1},
           "started": "t", "seconds": 0.0, "results": {"argv": sys.argv[1:]},
           "summary": [{"figure": "f", "value": 1, "unit": "u", "target": None, "met": None,
                        "note": ""}]}, open(out, "w"))
'''
FAKE_FAIL = 'import sys\nprint("line one", file=sys.stderr)\nraise SystemExit("it broke")\n'


def test_main_runs_every_script_keeps_going_after_a_failure(tmp_path, monkeypatch, capsys):
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "good.py").write_text(FAKE_OK)
    (scripts / "bad.py").write_text(FAKE_FAIL)
    results = tmp_path / "results"
    results.mkdir()
    # a stale JSON of an earlier run of the failing script must not be reported as its result
    (results / "bad.json").write_text(json.dumps(result("bad", [{"figure": "stale"}])))
    os.utime(results / "bad.json", (0, 0))
    monkeypatch.setattr(run_all, "HERE", scripts)
    monkeypatch.setattr(run_all, "ORDER", ["bad", "good", "absent"])
    monkeypatch.setattr(run_all, "USES_ROOFLINE", {"good"})
    code = run_all.main(["--quick", "--results-dir", str(results)])
    assert code == 1
    text = (results / "SUMMARY.md").read_text()
    assert text in capsys.readouterr().out
    assert "| bad | script failed (exit 1) | failed |" in text and "it broke" in text
    assert "stale" not in text
    assert "| good | f | 1 | u | – | – |  |" in text
    assert "Not run (no script): absent." in text
    argv = json.loads((results / "good.json").read_text())["results"]["argv"]
    assert "--quick" in argv and argv[argv.index("--roofline") + 1] == str(
        results / "matmul_roofline.json")
    assert text.index("| bad |") < text.index("| good |")  # the fixed order


def test_only_rejects_unknown_names(tmp_path):
    import pytest
    with pytest.raises(SystemExit):
        run_all.main(["--only", "nonsense", "--results-dir", str(tmp_path)])


def test_collect_only_builds_the_table_from_existing_results(tmp_path, monkeypatch):
    monkeypatch.setattr(run_all, "ORDER", ["one", "two"])
    monkeypatch.setattr(run_all, "HERE", tmp_path)
    for name in ("one", "two"):
        (tmp_path / f"{name}.py").write_text("raise SystemExit('must not run')\n")
    data = result("one", [{"figure": "f", "value": 2, "unit": "u", "target": None, "met": None,
                           "note": "n"}])
    (tmp_path / "one.json").write_text(json.dumps(data))
    assert run_all.main(["--collect-only", "--results-dir", str(tmp_path)]) == 0
    text = (tmp_path / "SUMMARY.md").read_text()
    assert "| one | f | 2 | u | – | – | n |" in text and "must not run" not in text
    assert "runs started 2026-01-01T00:00 to 2026-01-01T00:00; mode: --quick" in text
    assert "Not run (no result): two." in text
