"""Figures the train-step benchmark derives from its worker outputs, and its summary rows."""

import _common


def derive(default, mirrored, roofline, op_by_op=None):
    """Figures at the recipe batch: GFLOP/s, fraction, eager, 2-replica and XLA-update ratios."""
    if "error" in default:
        return {"error": default["error"]}
    rows = default["rows"]
    for r in rows:
        if r.get("flops_per_step") and roofline:
            r["achieved_gflops"] = round(r["flops_per_step"] / r["step_ms_best"] / 1e6, 2)
            r["fraction_of_roofline"] = round(r["achieved_gflops"] / roofline, 4)
    base = rows[0]
    out = {"batch_size": base["batch_size"], "examples_per_second": base["examples_per_second"],
           "achieved_gflops": base.get("achieved_gflops"),
           "fraction_of_roofline": base.get("fraction_of_roofline"),
           "input_bound": base["pipeline_only_examples_per_second"] < 1.2 * base["examples_per_second"]}
    if "eager" in base:
        out["compiled_over_eager"] = round(base["examples_per_second"]
                                           / base["eager"]["examples_per_second"], 2)
    if mirrored and "error" not in mirrored:
        eps = mirrored["rows"][0]["examples_per_second"]
        out["mirrored_examples_per_second"] = eps
        out["two_over_one_replica"] = round(eps / base["examples_per_second"], 3)
    elif mirrored:
        out["mirrored_error"] = mirrored["error"]
    if op_by_op and "error" not in op_by_op:
        out["xla_update_over_op_by_op"] = round(
            base["examples_per_second"] / op_by_op["rows"][0]["examples_per_second"], 3)
    return out


def reed_cross_check(row, embed_dim=1024):
    """Analytic FLOPs of the Reed attribute model: two single dense maps (image 1280 -> 1024,
    attributes 312 -> 1024): forward 2*B*in*out and the weight gradient as much again (no input
    gradient: the inputs are data); the B x B score matmul and its two gradients 3 * 2*B*B*D."""
    b = row["batch_size"]
    analytic = 4 * b * row["dense_kernel_macs_per_example"] + 6 * b * b * embed_dim
    return {"batch_size": b, "profiler_flops": row["flops_per_step"], "analytic_flops": analytic,
            "profiler_over_analytic": round(row["flops_per_step"] / analytic, 3)}


def summarise(models, roofline, sweep_label):
    rows, fixed = [], [m for m in models if m["fixed_feature"] and "error" not in m["derived"]]
    for m in models:
        d = m["derived"]
        if "error" in d:
            rows.append(_common.row(f"train step: {m['label']}", "failed", "", note=d["error"][-300:]))
            continue
        frac = d["fraction_of_roofline"]
        note = (f"batch {d['batch_size']}, {d['examples_per_second']} examples/s, "
                f"{d['achieved_gflops']} GFLOP/s; tf.function+tf.data "
                f"{d.get('compiled_over_eager')}x the eager loop"
                + (f"; 2 replicas {d['two_over_one_replica']}x 1" if "two_over_one_replica" in d else "")
                + (f"; XLA optimizer update {d['xla_update_over_op_by_op']}x op by op"
                   if "xla_update_over_op_by_op" in d else "")
                + ("; input pipeline alone < 1.2x the step rate" if d["input_bound"] else ""))
        rows.append(_common.row(f"train step: {m['label']}", round(100 * frac, 1) if frac else None,
                                "% of roofline", "≥ 50%" if m["fixed_feature"] else None,
                                (frac >= 0.5) if m["fixed_feature"] and frac else None, note))
    if fixed:
        ok = [m for m in fixed if (m["derived"]["fraction_of_roofline"] or 0) >= 0.5]
        rows.append(_common.row("fixed-feature train steps at ≥ 50% of the roofline",
                                f"{len(ok)} of {len(fixed)}", "models", "all", len(ok) == len(fixed),
                                f"roofline {roofline} GFLOP/s, recipe batch sizes"))
    sweep = next((m for m in models if m["label"] == sweep_label and "error" not in m["derived"]), None)
    if sweep:
        rows += sweep_rows(sweep, sweep_label)
    return rows


def sweep_rows(sweep, label):
    """Fraction vs batch size (informative: the target is judged at the recipe's batch), the
    fixed per-step cost, and the parts of one step."""
    steps = sweep["default"]["rows"]
    fit = sweep["step_time_fit"] = step_time_fit(steps)
    note = "examples/s " + ", ".join(f"{r['batch_size']}: {r['examples_per_second']}" for r in steps)
    if fit:
        note += (f"; step ≈ {fit['fixed_ms']} ms fixed + FLOPs at {fit['marginal_gflops']} GFLOP/s"
                 " (fit over the sweep); FLOPs per example grow with the batch (B x B scores)")
    rows = [_common.row(f"fraction of roofline vs batch size, {label}",
                        ", ".join(f"{r['batch_size']}: {round(100 * r['fraction_of_roofline'])}%"
                                  for r in steps if r.get("fraction_of_roofline")),
                        "batch: % of roofline", note=note)]
    parts = steps[0].get("breakdown_ms")
    if parts:
        rows.append(_common.row(
            f"step time and its parts, {label}, batch {steps[0]['batch_size']}",
            steps[0]["step_ms_best"], "ms", note=", ".join(
                f"{k.replace('_', ' ')} {v}" + ("" if isinstance(v, str) else " ms")
                for k, v in parts.items()) + " (each timed alone)"))
    return rows


def step_time_fit(rows):
    """Least-squares step time = fixed + FLOPs / rate over the batch sweep: `fixed` is what every
    step pays whatever its batch (optimizer update over all weights, dispatch, input), `rate`
    the speed of the work that grows with the batch."""
    import numpy as np

    rows = [r for r in rows if r.get("flops_per_step")]
    if len(rows) < 2:
        return None
    ms_per_flop, fixed = np.polyfit([r["flops_per_step"] for r in rows],
                                    [r["step_ms_best"] for r in rows], 1)
    return {"fixed_ms": round(float(fixed), 2), "marginal_gflops": round(float(1e-6 / ms_per_flop), 1)}
