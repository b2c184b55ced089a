"""matmul_roofline end to end with tiny sizes (the JSON contract every benchmark follows), and
the shared helpers of benchmarks/_common.py."""

import json
import subprocess
import sys

import _common

ROW_KEYS = {"figure", "value", "unit", "target", "met", "note"}


def check_contract(data, name, quick):
    assert set(data) == {"benchmark", "quick", "machine", "started", "seconds", "results",
                         "summary"}
    assert data["benchmark"] == name and data["quick"] is quick
    machine = data["machine"]
    for key in ("cpu", "cores", "tensorflow", "intra_op_threads", "load_avg_start", "load_avg_end"):
        assert key in machine
    assert data["summary"] and all(set(r) == ROW_KEYS for r in data["summary"])
    for r in data["summary"]:
        assert isinstance(r["value"], (int, float, str)) and r["met"] in (True, False, None)


def test_matmul_roofline_writes_the_contract_json(tmp_path):
    out = tmp_path / "roofline.json"
    proc = subprocess.run([sys.executable, str(_common.REPO / "benchmarks" / "matmul_roofline.py"),
                           "--quick", "--sizes", "32,64", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(out.read_text())
    check_contract(data, "matmul_roofline", True)
    res = data["results"]
    assert [s["m"] for s in res["square"]] == [32, 64]
    assert res["roofline_gflops"] == max(s["best_gflops"] for s in res["square"]) > 0
    assert all(s["best_gflops"] >= s["median_gflops"] for s in res["square"])
    assert _common.read_roofline(out) == (res["roofline_gflops"], str(out))


def test_read_roofline_explains_a_missing_or_bad_file(tmp_path):
    value, why = _common.read_roofline(tmp_path / "none.json")
    assert value is None and "missing" in why and "matmul_roofline.py" in why
    bad = tmp_path / "bad.json"
    bad.write_text('{"results": {}}')
    value, why = _common.read_roofline(bad)
    assert value is None and "unreadable" in why


def test_write_result_and_rows(tmp_path, capsys):
    args = _common.parse_args("demo", "doc", ["--out", str(tmp_path / "d.json")])
    assert args.quick is False and args.roofline.endswith("matmul_roofline.json")
    began = _common.start()
    rows = [_common.row("speed", 3.5, "ms", "≤ 10 ms", True), _common.row("n", "skipped", "")]
    data = _common.write_result("demo", args, began, {"x": 1}, rows)
    assert json.loads((tmp_path / "d.json").read_text()) == data
    check_contract(data, "demo", False)
    assert "speed = 3.5 ms (target ≤ 10 ms: met)" in capsys.readouterr().out


def test_time_calls_counts_repeats():
    calls = []
    times = _common.time_calls(lambda: calls.append(1), 4, warmup=3)
    assert len(times) == 4 and len(calls) == 7 and all(t >= 0 for t in times)
