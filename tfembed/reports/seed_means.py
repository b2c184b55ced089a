"""Runs that differ only in their seed, summarised: mean and range of each reported metric, so a
comparison between variants (e.g. Reed's word vs char encoders on cub_reed35) is read against
the seed-to-seed spread rather than one run."""

import collections


def seed_groups(everything, variant_without_seed):
    """{(recipe, data set, protocol, variant): [results]} for groups of >= 2 distinct seeds."""
    by = collections.defaultdict(list)
    for _, res in everything:
        if res.get("smoke"):
            continue
        key = (res["recipe"], str(res.get("dataset")), res.get("protocol"),
               variant_without_seed(res))
        by[key].append(res)
    return {k: runs for k, runs in by.items()
            if len({r["config"].get("seed", 0) for r in runs}) == len(runs) >= 2}


def lines(everything, variant_without_seed, groups, scaled, fmt):
    """Markdown lines: one row per seed group; `scaled(res, key)` -> the metric in the table's
    units, `fmt(value, key)` -> its text."""
    found = seed_groups(everything, variant_without_seed)
    if not found:
        return []
    out = ["", "## Seed means", "",
           "Runs identical but for the seed: mean [min, max] over the seeds, same units as above.",
           "", "| recipe | data set | protocol | variant | seeds | mean [min, max] |",
           "|---|---|---|---|---|---|"]
    for (recipe, data, protocol, variant), runs in sorted(found.items()):
        seeds = sorted(r["config"].get("seed", 0) for r in runs)
        cells = []
        for label, keys in groups(runs[0]):
            parts = []
            for key in keys:
                vals = [scaled(r, key) for r in runs if key in r["metrics"]]
                if len(vals) == len(runs):
                    parts.append(f"{fmt(sum(vals) / len(vals), key)} "
                                 f"[{fmt(min(vals), key)}, {fmt(max(vals), key)}]")
            if parts:
                cells.append(f"{label}: {' / '.join(parts)}")
        out.append(f"| {recipe} | {data} | `{protocol}` | {variant or '–'} | "
                   f"{', '.join(map(str, seeds))} | {'<br>'.join(cells)} |")
    return out
