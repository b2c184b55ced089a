"""Markdown table of zero-shot results (results.json files) beside the paper's numbers.

    python -m tfembed.reports.zsl_table runs/zhang2017/*/*/results.json [--out table.md]

Rows: one per (semantic side, method); numbers in %, chance in brackets. Paper numbers come
from each run's `paper.<method>.<metric>` config entries, shown only for the semantic side
the paper reported (`paper.semantic`).
"""

import argparse
import json
import sys

from tfembed.errors import DataError

COLUMNS = (("zsl_top1_per_class", "ZSL T1"), ("zsl_top1_per_class_cosine", "T1 cosine"),
           ("gzsl_u", "GZSL u"), ("gzsl_s", "GZSL s"), ("gzsl_h", "GZSL H"))


def load(paths):
    out = []
    for path in paths:
        try:
            with open(path) as f:
                res = json.load(f)
            res["metrics"], res["config"]  # noqa: B018 (a results.json must have both)
        except (OSError, ValueError, KeyError) as err:
            raise DataError(f"not a results.json: {err}", path) from None
        out.append(res)
    return out


def _pct(res, key):
    if key not in res["metrics"]:
        return "–"
    chance = res["chance"].get(key)
    text = f"{100 * res['metrics'][key]:.1f}"
    return text + (f" ({100 * chance:.1f})" if chance is not None else "")


def _paper(res, method, kind):
    cfg = res["config"]
    if cfg.get("paper.semantic") != kind:
        return "–"
    vals = [f"{label} {cfg[f'paper.{method}.{key}']}" for key, label in
            (("zsl_top1_per_class", "T1"), ("gzsl_h", "H")) if f"paper.{method}.{key}" in cfg]
    return " / ".join(vals) or "–"


def markdown(results):
    head = ["semantic side", "method"] + [c[1] for c in COLUMNS] + ["hubness N1 skew", "paper"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for res in results:
        cfg = res["config"]
        kind, method = cfg.get("semantic_side", "?"), cfg.get("method", res["recipe"])
        hub = res["metrics"].get("hubness_n1_skewness")
        hub_text = "–" if hub is None else \
            f"{hub:.2f} ({res['chance'].get('hubness_n1_skewness', float('nan')):.2f})"
        lines.append("| " + " | ".join([kind, method] + [_pct(res, k) for k, _ in COLUMNS]
                                       + [hub_text, _paper(res, method, kind)]) + " |")
    if results:
        first = results[0]
        cfg = first["config"]
        lines += ["", f"Data set {first['dataset']}, protocol {first['protocol']}: per-class "
                  "averaged top-1 on test_unseen (ZSL), GZSL over all classes; hyper-parameters "
                  "and epochs chosen on the class-disjoint train/val split. Numbers in %, chance "
                  "in brackets; hubness = skewness of the N1 distribution of the unseen class "
                  "prototypes (test images as queries), chance = random scores."]
        if any(res.get("smoke") for res in results):
            lines.append("Smoke run (--smoke): tiny sizes, not comparable with the paper.")
        if cfg.get("data.features"):
            lines.append(f"Image features: {cfg['data.features']}.")
        lines += [f"Note: {n}" for n in cfg.get("table_notes", []) or []]
        if cfg.get("paper.note"):
            lines.append(f"Paper: {cfg['paper.note']}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tfembed.reports.zsl_table",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="results.json files")
    parser.add_argument("--out", help="also write the table to this file")
    args = parser.parse_args(argv)
    try:
        table = markdown(load(args.results))
    except DataError as err:
        print(f"zsl_table: error: {err}", file=sys.stderr)
        return 2
    print(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
