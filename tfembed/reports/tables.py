"""The table a run prints after results.json: every row says its unit, so R@K (already in %)
and accuracies (stored as fractions) are not read on one scale by mistake.

Printed units, the same in every recipe: accuracies, AP/mAP and GZSL numbers in % (x100 of
the fraction results.json stores), R@K and rsum in % (as stored), median / mean ranks as
ranks (lower is better), skewness and other scores as stored. results.json keeps its own
scales (fractions; R@K in %), so the table is the only place the conversion happens.
"""

import re

# (pattern on the metric name, unit shown, factor from the stored value); first match wins.
UNITS = (
    (r"(^|_)(r@\d+|rsum)($|_)", "%", 1.0),
    (r"(medr|meanr)($|_)", "rank", 1.0),
    (r"skewness", "skewness", 1.0),
    (r"(top\d|accuracy|agreement|gzsl_[ush]|(^|_)(m?ap|p)@\d+|(^|_)map($|_)|precision|recall)",
     "%", 100.0),
)


def unit(metric):
    """(unit, factor) of a metric name: the printed value is factor * the stored one."""
    for pattern, name, factor in UNITS:
        if re.search(pattern, metric):
            return name, factor
    return "score", 1.0


def title(results):
    """`recipe on data set (protocol)`, plus the method and semantic side when the run has
    several (zhang2017 writes one results.json per side and method), and `smoke`."""
    cfg = results.get("config") or {}
    parts = [f"{results['recipe']} on {results['dataset']} ({results['protocol']})"]
    if cfg.get("method") or cfg.get("semantic_side"):
        parts.append(f"method {cfg.get('method', '?')}, semantic side "
                     f"{cfg.get('semantic_side', '?')}")
    if results.get("smoke") or cfg.get("smoke"):
        parts.append("smoke run: tiny sizes, not the paper's numbers")
    return " - ".join(parts)


def format_results(results):
    """Plain-text table: metric, value, chance, unit (values converted to that unit)."""
    width = max([36] + [len(k) + 2 for k in results["metrics"]])
    lines = [title(results), f"{'metric':<{width}}{'value':>10}{'chance':>10}  unit"]
    for key, value in results["metrics"].items():
        name, factor = unit(key)
        digits = 2 if factor != 1.0 or name == "%" else 4
        chance = results["chance"].get(key)
        chance_text = f"{'':>10}" if chance is None else f"{chance * factor:>10.{digits}f}"
        lines.append(f"{key:<{width}}{value * factor:>10.{digits}f}{chance_text}  {name}")
    return "\n".join(lines)
