"""train_step: the derived figures and summary rows from worker outputs, the fixed-feature data
sets the recipes load, and one real worker run on a tiny set (schema only, no timing)."""

import json
import subprocess
import sys

import pytest

import _train_step_data
import _train_step_report as report
import train_step


def worker_row(batch, step_ms, flops, eps_eager=None, pipeline=1e6):
    row = {"batch_size": batch, "step_ms_best": step_ms, "examples_per_second": batch / step_ms * 1e3,
           "pipeline_only_examples_per_second": pipeline, "flops_per_step": flops,
           "dense_kernel_macs_per_example": 1000}
    if eps_eager:
        row["eager"] = {"examples_per_second": eps_eager}
    return row


def test_derive_fraction_eager_and_replica_ratios():
    default = {"rows": [worker_row(40, 10.0, 1e9, eps_eager=1000.0), worker_row(256, 40.0, 6.4e9)]}
    mirrored = {"rows": [{"examples_per_second": 3600.0}]}
    d = report.derive(default, mirrored, roofline=200.0)
    assert d["achieved_gflops"] == 100.0 and d["fraction_of_roofline"] == 0.5
    assert d["compiled_over_eager"] == 4.0 and d["two_over_one_replica"] == 0.9
    assert d["input_bound"] is False
    assert default["rows"][1]["fraction_of_roofline"] == 0.8
    assert report.derive({"error": "boom"}, None, 200.0) == {"error": "boom"}
    assert "mirrored_error" in report.derive(default, {"error": "x"}, 200.0)


def test_step_time_fit_recovers_fixed_cost_and_rate():
    rows = [worker_row(b, 2.0 + 1e6 * b / 1e8, 1e6 * b) for b in (40, 256, 1024)]  # 100 GFLOP/s
    fit = report.step_time_fit(rows)
    assert fit == {"fixed_ms": 2.0, "marginal_gflops": 100.0}
    assert report.step_time_fit(rows[:1]) is None


def test_summary_rows_judge_the_fixed_feature_target_honestly():
    def model(label, fixed, fraction):
        rows = [worker_row(40, 10.0, fraction * 2e9, eps_eager=1000.0)]
        default = {"rows": rows}
        return {"label": label, "fixed_feature": fixed, "default": default,
                "derived": report.derive(default, None, 200.0)}
    models = [model(train_step.SWEEP, True, 0.6), model("dem", True, 0.2),
              model("pixels", False, 0.7), {"label": "broken", "fixed_feature": True,
                                            "derived": {"error": "Traceback: boom"}}]
    rows = {r["figure"]: r for r in report.summarise(models, 200.0, train_step.SWEEP)}
    assert rows[f"train step: {train_step.SWEEP}"]["met"] is True
    assert rows["train step: dem"]["met"] is False and rows["train step: dem"]["value"] == 20.0
    assert rows["train step: pixels"]["met"] is None and rows["train step: pixels"]["target"] is None
    assert rows["train step: broken"]["value"] == "failed" and "boom" in rows["train step: broken"]["note"]
    total = rows["fixed-feature train steps at ≥ 50% of the roofline"]
    assert total["value"] == "1 of 2" and total["met"] is False


def test_reed_cross_check_formula():
    check = report.reed_cross_check(dict(worker_row(40, 1.0, 1.0), flops_per_step=1000),
                                        embed_dim=10)
    assert check["analytic_flops"] == 4 * 40 * 1000 + 6 * 40 * 40 * 10


def test_fixed_feature_sets_load_with_the_recipes_sources(tmp_path):
    from tfembed import data
    gbu = _train_step_data.write_gbu_cub(str(tmp_path / "gbu"), per_class=5, classes=12,
                                         attributes=7, unseen=3)
    ds = data.load("xlsa17", gbu[gbu.index("--data-dir") + 1], dataset="CUB",
                   features=gbu[-1].split("=", 1)[1])
    assert ds.features.shape == (60, _train_step_data.FEATURE_DIM)
    assert ds.class_attributes.shape == (12, 7)
    assert set(ds.labels[ds.splits["test_unseen"]]) == {9, 10, 11}
    assert not set(ds.labels[ds.splits["train"]]) & set(ds.labels[ds.splits["val"]])
    cap = _train_step_data.write_captions(str(tmp_path / "cap"), images=12, vocabulary=30)
    ds = data.load("karpathy_json", cap[cap.index("--data-dir") + 1],
                   features=cap[-1].split("=", 1)[1])
    assert ds.features.shape == (12, _train_step_data.FEATURE_DIM)
    assert [len(t) for t in ds.texts] == [5] * 12 and len(ds.splits["test"]) == 2


@pytest.mark.parametrize("recipe", ["reed2016"])
def test_worker_times_the_recipes_own_train_step(tmp_path, recipe):
    args = _train_step_data.write_gbu_cub(str(tmp_path / "gbu"), per_class=6, classes=12,
                                          attributes=7, unseen=3)
    out = tmp_path / "w.json"
    proc = subprocess.run([sys.executable, train_step.WORKER, "--recipe", recipe,
                           "--batch-sizes", "recipe,8", "--eager", "--seconds", "0.05",
                           "--out", str(out), "--", *args, "--set", "model.embed_dim=16"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(out.read_text())
    assert data["replicas"] == 1 and [r["batch_size"] for r in data["rows"]] == [40, 8]
    first = data["rows"][0]
    assert first["recipe_batch"] and "eager" in first and "eager" not in data["rows"][1]
    # FLOPs counted on the graph agree with the analytic count of this two-linear-map model
    check = report.reed_cross_check(first, embed_dim=16)
    assert 0.9 < check["profiler_over_analytic"] < 1.5
    assert first["dense_kernel_macs_per_example"] == (1280 + 7) * 16


def test_sweep_rows_are_informative_not_judged():
    steps = [dict(worker_row(b, 2.0 + 0.01 * b, 1e6 * b), fraction_of_roofline=f)
             for b, f in ((40, 0.1), (1024, 0.6))]
    steps[0]["breakdown_ms"] = {"optimizer_update": 1.5, "optimizer_update_xla": "failed: x"}
    sweep = {"default": {"rows": steps}}
    fraction, parts = report.sweep_rows(sweep, "m")
    assert fraction["value"] == "40: 10%, 1024: 60%" and fraction["met"] is None
    assert "2.0 ms fixed" in fraction["note"] and sweep["step_time_fit"]["fixed_ms"] == 2.0
    assert parts["value"] == 2.4 and "optimizer update 1.5 ms" in parts["note"]
    assert "optimizer update xla failed: x" in parts["note"]
