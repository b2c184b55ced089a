"""Run every benchmark and write one summary table for the README.

    python benchmarks/run_all.py [--quick] [--results-dir benchmarks/results] [--only a,b]
    python benchmarks/run_all.py --collect-only     # table from the JSONs already there

Each script runs as a subprocess in a fixed order (matmul_roofline first: train_step reads the
roofline from its JSON), with --quick forwarded. A script that fails is reported in the
table with the tail of its stderr and does not stop the others; the exit code is non-zero if
any failed. The table goes to <results-dir>/SUMMARY.md and is printed.
"""

import argparse
import datetime
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ORDER = ["matmul_roofline", "train_step", "eval_throughput", "gallery_search", "serving_latency",
         "train_throughput"]
USES_ROOFLINE = {"train_step"}
COLUMNS = ["benchmark", "figure", "value", "unit", "target", "met", "note"]


def run_script(name, results_dir, quick, timeout):
    """Run one script; returns {"name", "returncode", "stderr_tail", "data" (its JSON or None)}."""
    out = pathlib.Path(results_dir) / f"{name}.json"
    cmd = [sys.executable, str(HERE / f"{name}.py"), "--out", str(out)] + (["--quick"] if quick else [])
    if name in USES_ROOFLINE:
        cmd += ["--roofline", str(pathlib.Path(results_dir) / "matmul_roofline.json")]
    launched = time.time()
    print(f"== {name}: {' '.join(cmd[1:])}", flush=True)
    # Own session, so a timeout also ends the script's children (workers, servers).
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    try:
        _, stderr = proc.communicate(timeout=timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, stderr = proc.communicate()
        code, stderr = "timeout", f"{stderr}\nkilled after {timeout} s"
    data = None
    if out.exists() and out.stat().st_mtime >= launched:  # never report a stale earlier run
        try:
            data = json.loads(out.read_text())
        except ValueError as err:
            code, stderr = code or "bad json", f"{out}: {err}"
    elif code == 0:
        code, stderr = "no json", f"exited 0 without writing {out}"
    print(f"   {name}: exit {code}, {round(time.time() - launched)} s", flush=True)
    return {"name": name, "returncode": code, "stderr_tail": _tail(stderr), "data": data}


def collect(name, results_dir):
    """An earlier run's JSON as a run_all entry (data None when there is none)."""
    path = pathlib.Path(results_dir) / f"{name}.json"
    data = json.loads(path.read_text()) if path.exists() else None
    return {"name": name, "returncode": 0, "stderr_tail": "", "data": data}


def _tail(text, lines=4, chars=400):
    kept = [l for l in (text or "").strip().splitlines() if l.strip()][-lines:]
    return " / ".join(kept)[-chars:]


def _cell(value):
    if value is None:
        return "–"
    if value is True or value is False:
        return "yes" if value else "**no**"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table_row(values):
    return "| " + " | ".join(_cell(v) for v in values) + " |"


def machine_line(entries):
    for e in entries:
        m = (e["data"] or {}).get("machine")
        if m:
            load = m.get("load_avg_start") or m.get("load_avg_end")
            load = "/".join(map(str, load)) if isinstance(load, list) else load
            return (f"{m.get('cpu')}, {m.get('cores')} cores, TensorFlow {m.get('tensorflow', '?')}, "
                    f"threads intra {m.get('intra_op_threads', '?')} / inter "
                    f"{m.get('inter_op_threads', '?')}, load average (1/5/15 min) {load} at the start of "
                    f"{e['name']}")
    return "unknown (no benchmark wrote its machine info)"


def build_summary(entries, date, quick, not_run=(), why="no script"):
    """Markdown: title, machine and date lines, one table row per summary row (a failed script
    gets a row with the tail of its stderr, after any rows its JSON still holds)."""
    lines = ["# Benchmark summary", "",
             f"Machine: {machine_line(entries)}.  ",
             f"Date: {date}; mode: {'--quick' if quick else 'full'}.", "",
             "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for e in entries:
        for r in (e["data"] or {}).get("summary", []):
            lines.append(_table_row([e["name"]] + [r.get(c) for c in COLUMNS[1:]]))
        if e["returncode"] != 0:
            lines.append(_table_row([e["name"], f"script failed (exit {e['returncode']})",
                                     "failed", None, None, False, e["stderr_tail"]]))
    if not_run:
        lines += ["", f"Not run ({why}): " + ", ".join(not_run) + "."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="every script's --quick mode")
    parser.add_argument("--results-dir", default=str(HERE / "results"))
    parser.add_argument("--only", default=None, help="comma-separated subset, e.g. matmul_roofline")
    parser.add_argument("--collect-only", action="store_true",
                        help="run nothing: build SUMMARY.md from the JSONs already in --results-dir")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds per script (default 900 with --quick, else 7200)")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else ORDER
    unknown = [n for n in names if n not in ORDER]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {', '.join(ORDER)}")
    os.makedirs(args.results_dir, exist_ok=True)
    timeout = args.timeout or (900 if args.quick else 7200)
    present = [n for n in ORDER if n in names and (HERE / f"{n}.py").exists()]
    if args.collect_only:
        entries = [collect(n, args.results_dir) for n in present]
        present = [e["name"] for e in entries if e["data"]]
        entries = [e for e in entries if e["data"]]
    else:
        entries = [run_script(n, args.results_dir, args.quick, timeout) for n in present]
    date = datetime.datetime.now().astimezone().isoformat(timespec="minutes")
    quick = args.quick
    if args.collect_only:  # describe the runs collected, not this moment
        started = sorted(e["data"]["started"][:16] for e in entries) or ["–"]
        date = f"runs started {started[0]} to {started[-1]}"
        quick = any(e["data"].get("quick") for e in entries)
    text = build_summary(entries, date, quick, [n for n in names if n not in present],
                         "no result" if args.collect_only else "no script")
    (pathlib.Path(args.results_dir) / "SUMMARY.md").write_text(text)
    print(text)
    return 1 if any(e["returncode"] != 0 for e in entries) else 0


if __name__ == "__main__":
    sys.exit(main())
