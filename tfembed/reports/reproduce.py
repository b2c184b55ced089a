"""REPRODUCTION.md: every run beside the paper's number, same-run baselines, chance, deviations.

    python -m tfembed.reports.reproduce RUN_DIR... [--out REPRODUCTION.md]

Each RUN_DIR is searched recursively for results.json. One row per results.json (recipe x
data set x protocol; zhang2017 writes one per semantic side and method). Numbers are in the
paper's units (%, BLEU x 100, AUC x 100; ranks and skewness as they are). The paper column
comes from tfembed.reports.paper_numbers and is "–" with the reason when the paper has no
number for this data set, protocol, variant or test-set size, or when the run's metric
predates the paper's definition. The commands that produced the rows are listed at the end
(recorded in results.json, or reconstructed from its config for older runs).
"""

import argparse
import json
import os
import re
import shlex
import sys

from tfembed.config import moved_key
from tfembed.errors import DataError
from tfembed.reports import seed_means
from tfembed.reports.paper_numbers import NO_PAPER, PAPERS, RECIPE_SCOPE

RECIPES = ("reed2016", "zhang2017", "karpathy2015", "karpathy2015_captions", "wang2016",
           "gordo2017", "wsabie", "devise")
ZSL = [("T1", ["zsl_top1_per_class"]), ("GZSL u/s/H", ["gzsl_u", "gzsl_s", "gzsl_h"]),
       ("N1 skew", ["hubness_n1_skewness"])]
RANKING = [("i2t R@1/5/10", ["i2t_r@1", "i2t_r@5", "i2t_r@10"]),
           ("t2i R@1/5/10", ["t2i_r@1", "t2i_r@5", "t2i_r@10"]),
           ("med r i2t/t2i", ["i2t_medr", "t2i_medr"])]
GROUPS = {  # recipe -> [(label, metric keys)]; a group whose keys are missing is left out
    "reed2016": [("top-1/image", ["zsl_top1_per_image"]), ("top-1/class", ["zsl_top1_per_class"]),
                 ("AP@50", ["retrieval_ap@50"])],
    "zhang2017": ZSL, "devise": ZSL, "wang2016": RANKING,
    # + Sec. 3.1.4's MRF on synthetic scenes: our measurement (the paper's is qualitative).
    "karpathy2015": RANKING + [
        ("phrase-box acc. MRF/argmax", ["phrase_box_accuracy", "phrase_box_accuracy_argmax"]),
        ("noun-box acc. MRF/argmax", ["noun_box_accuracy", "noun_box_accuracy_argmax"])],
    "karpathy2015_captions": [("BLEU-1/2/3/4", ["bleu_1", "bleu_2", "bleu_3", "bleu_4"])],
    "wsabie": [("NDCG/PCC AUC", ["ndcg_auc_wsabie", "pcc_auc_wsabie"]),
               ("US (human)", ["human_triplet_agreement_wsabie"]),
               ("annotation p@1/p@5", ["annotation_p@1", "annotation_p@5"])],
}
SETTINGS = {"v_v": "(V,V)", "vt_v": "(V+T,V)", "vt_vt": "(V+T,V+T)"}
BASELINES = {  # recipe -> [(metric suffix, label)] written into the same results.json
    "gordo2017": [("raw_features", "raw features"), ("random", "random"),
                  ("tfidf_oracle", "tf-idf oracle")],
    "reed2016": [("tfidf_ridge", "tf-idf ridge")],
    "wsabie": [("raw_features", "raw features"), ("random", "random"),
               ("frequency_prior", "word-frequency prior")],
}
VARIANT = {  # recipe -> config keys that name the variant
    "reed2016": ["model.task", "text.encoder", "image.projection", "text.architecture",
                 "text.word_vectors", "text.train_word_vectors", "train.steps", "seed"],
    "zhang2017": ["semantic_side", "method"],
    "karpathy2015": ["model.kind", "image.regions", "data.region_features"],
    "wang2016": ["text.features"],
    "karpathy2015_captions": ["model.cell", "decode.beam"], "gordo2017": ["model.primary"],
    "wsabie": ["labels.source"], "devise": ["labels.word_vectors"],
}
STATIC = {  # deviations that hold for every run of a recipe
    "reed2016": ["one feature vector per image (the paper trains on 10 crops / flips of each)"],
    "gordo2017": ["relevance = tf-idf of the run's own captions (Snowball stems)"],
}
COMMAND_KEYS = ("data.dataset", "data.features", "text.encoder", "model.task", "text.rnn_cell",
                "model.cell", "model.kind", "image.tower", "image.regions", "text.features",
                "model.primary", "labels.word_vectors", "labels.source", "train.steps")


def find_results(paths):
    """[(path, results)] of every results.json under `paths` (files or directories)."""
    found = []
    for top in paths:
        if os.path.isfile(top):
            found.append(top)
            continue
        if not os.path.isdir(top):
            raise DataError("no such run directory", top)
        for root, dirs, files in os.walk(top):
            dirs.sort()
            found += [os.path.join(root, "results.json")] if "results.json" in files else []
    out = []
    for path in found:
        try:
            with open(path) as f:
                res = json.load(f)
            res["recipe"], res["metrics"], res["config"]  # noqa: B018
            # Runs of an older config shape are read at the current keys (data.splits, ...).
            res["config"] = {moved_key(k): v for k, v in res["config"].items()}
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise DataError(f"not a results.json: {err}", path) from None
        out.append((path, res))
    if not out:
        raise DataError("no results.json found under " + ", ".join(paths))
    order = {r: i for i, r in enumerate(RECIPES)}
    return sorted(out, key=lambda pr: (order.get(pr[1]["recipe"], len(order)), pr[1]["recipe"],
                                       str(pr[1].get("dataset")), str(pr[1].get("protocol")),
                                       pr[0]))


def dataset_key(name):
    name = str(name).lower()
    return name[len("karpathy/"):] if name.startswith("karpathy/") else name


def groups(res):
    if res["recipe"] == "gordo2017":
        primary = res["config"].get("model.primary")
        g = [(SETTINGS.get(s, s) + ("*" if s == primary else "") + " NDCG/PCC AUC",
              [f"ndcg_auc_{s}", f"pcc_auc_{s}"]) for s in SETTINGS]
        g += [(f"{SETTINGS[s]} US (human)", [f"human_triplet_agreement_{s}"]) for s in SETTINGS]
    else:  # an unknown recipe: every metric that has a chance level, up to 8
        g = GROUPS.get(res["recipe"]) or [(k, [k]) for k in sorted(res["chance"])[:8]]
    return [(label, keys) for label, keys in g if all(k in res["metrics"] for k in keys)]


def scale(res, key):
    """Factor from our units to the paper's: fractions -> %, ranks / skewness / R@K as is."""
    if re.search(r"_r@\d+$", key) or key.endswith(("medr", "meanr")) or "skewness" in key:
        return 1.0
    if key.startswith(("ndcg", "pcc")):  # fractions (x100 in the paper) unless already x100
        vals = [abs(v) for k, v in res["metrics"].items() if k.startswith(("ndcg_auc", "pcc_auc"))]
        return 1.0 if vals and max(vals) > 1.0 else 100.0
    return 100.0


def fmt(value, key=""):
    if value is None:
        return "–"
    return f"{value:.2f}" if "skewness" in key else f"{value:.1f}"


def values(res, keys, source="metrics"):
    got = [res[source].get(k) for k in keys]
    return " / ".join(fmt(None if v is None else v * scale(res, k), k) for v, k in zip(got, keys))


def test_images(res):
    for note in res.get("notes", []):
        m = re.search(r"(\d[\d,]*) test images|test images: (\d+)", str(note))
        if m:
            return int((m.group(1) or m.group(2)).replace(",", ""))
    m = re.match(r"flickr_subset_(\d+)$", str(res.get("protocol")))
    return int(m.group(1)) if m else None


def stale(res):
    """{metric: why} for metrics whose definition predates the paper's (renamed / redefined)."""
    out, m = {}, res["metrics"]
    if not any(k.startswith("retrieval_map@") for k in m):
        for k in m:
            if k.startswith("retrieval_ap@"):
                out[k] = "this run's retrieval_ap@K is truncated AP (before retrieval_map@K " \
                         "existed), not Reed's AP@K = precision@K"
    new_axis = any(k.endswith("_tfidf_oracle") for k in m) or \
        any("over log R" in str(n) for n in res.get("notes", []))
    if not new_axis:
        for k in m:
            if k.startswith(("ndcg_auc", "pcc_auc")):
                out[k] = "this run's ndcg_auc / pcc_auc predate the paper's R axis " \
                         "(R = 1..1,000, log-spaced)"
    return out


def _variant_ok(paper, cfg):
    return all(cfg.get(k) == v for k, v in paper.variant.items())


def _shown(key, cfg):
    """Whether a variant key is worth a word: set, and not a value that changes nothing (seed 0,
    word vectors an encoder ignores, the recipe's default step count)."""
    value = cfg.get(key)
    if value is None or (key == "seed" and value == 0):
        return False
    if key == "text.train_word_vectors":  # fine-tuned pretrained vectors
        return bool(value) and cfg.get("text.word_vectors") not in (None, "train")
    if key == "text.word_vectors":
        return value != "train" or cfg.get("text.encoder") == "word2vec"
    if key == "train.steps":  # only where a run of the same data set changed it
        return cfg.get("recipe") == "reed2016" and "cub_reed35" in str(cfg.get("data.root")) \
            and value != 3000
    return True


def match(res):
    """(Paper, None) or (None, why there is no comparable number)."""
    recipe, cfg = res["recipe"], res["config"]
    ds, protocol = dataset_key(res.get("dataset")), res.get("protocol")
    if ds in NO_PAPER:
        return None, NO_PAPER[ds]
    mine = [p for p in PAPERS if p.recipe == recipe]
    if not mine:
        return None, f"no paper number is entered for recipe {recipe}"
    same = [p for p in mine if ds in p.datasets]
    if not same:
        return None, f"{RECIPE_SCOPE.get(recipe, 'the paper reports other data sets')}; " \
                     f"this run is {res.get('dataset')}"
    if not [p for p in same if p.protocol == protocol]:
        sub = re.match(r"flickr_subset_(\d+)$", str(protocol))
        if sub:
            return None, f"a {sub.group(1)}-image test subset; the paper's R@K use 1,000 test " \
                         "images and R@K depends on the gallery size"
        return None, f"the paper reports {res.get('dataset')} under protocol " \
                     f"{', '.join(sorted({p.protocol for p in same}))}, this run is {protocol}"
    for paper in [p for p in same if p.protocol == protocol and _variant_ok(p, cfg)]:
        if paper.chance:
            key, expected = paper.chance
            got = res.get("chance", {}).get(key)
            if got and abs(got - expected) > 0.01 * expected:
                return None, f"{round(1 / got)} test classes here (chance {got:.3f}), the " \
                             f"paper tests {round(1 / expected)} (chance {expected:.3f})"
        n = test_images(res)
        if paper.test_images and n and n != paper.test_images:
            return None, f"{n} test images here, the paper's test set has {paper.test_images}"
        return paper, None
    label = ", ".join(f"{k}={cfg.get(k)}" for k in sorted({k for p in same for k in p.variant}))
    return None, f"the paper reports no number for this variant ({label})"


def _features(cfg):
    if cfg.get("data.region_features"):
        return ("precomputed EfficientNet-Lite0 region features, whole image + grid crops "
                f"({cfg['data.region_features']})")
    path = cfg.get("data.features")
    tower = cfg.get("image.tower")
    if path:
        name = os.path.basename(str(path)).lower()
        kind = next((n for k, n in (("lite0", "EfficientNet-Lite0"), ("res101", "ResNet-101"),
                                    ("resnet", "ResNet"), ("googlenet", "GoogLeNet"),
                                    ("vgg", "VGG")) if k in name), os.path.basename(str(path)))
        return f"precomputed {kind} features ({path})"
    if tower in ("conv_small", None) and cfg.get("data.source", "").startswith("synthetic"):
        return "a small CNN trained from scratch on the synthetic images (no pretraining)"
    return f"image tower {tower}" if tower else None


def deviations(res, paper):
    cfg, recipe = res["config"], res["recipe"]
    out = []
    feats = _features(cfg)
    if feats:
        out.append(f"features: {feats}" + (f" (paper: {paper.setting})" if paper else ""))
    if cfg.get("data.only_with_images"):
        out.append("data subset: only images with a file (data.only_with_images)")
    n = test_images(res)
    if n:
        out.append(f"test set: {n} images")
    zsl = res.get("chance", {}).get("zsl_top1_per_class") or \
        res.get("chance", {}).get("zsl_top1_per_image")
    if zsl:
        out.append(f"test set: {round(1 / zsl)} unseen classes")
    encoder, cell = str(cfg.get("text.encoder", "")), cfg.get("text.rnn_cell")
    if recipe == "reed2016" and "cub_reed35" in str(cfg.get("data.root")):
        out.append("data: 35 CUB classes with Reed's real descriptions, a 25 seen -> 10 unseen "
                   "development split (Reed: 150 -> 50 classes); compare the rows of this data "
                   "set (encoder, image.projection, text.architecture) and the same-run tf-idf "
                   "ridge")
    if recipe == "reed2016" and encoder.endswith("cnn_rnn") and cell not in ("rnn", "relu_rnn"):
        out.append(f"cell: text.rnn_cell={cell} (Reed's CNN-RNN: a plain ReLU RNN over 8 steps, "
                   "reedscot/cvpr2016 modules/FixedRNN.lua)")
    if recipe == "reed2016" and cfg.get("model.task_options.violation") == "sum":
        out.append("loss: hinges summed over classes (Reed's Torch code; the paper writes a max)")
    if recipe == "karpathy2015_captions" and cfg.get("model.cell") != "simple_rnn":
        out.append(f"cell: model.cell={cfg.get('model.cell')} (paper: simple RNN)")
    if recipe == "karpathy2015":
        if cfg.get("data.region_features"):
            out.append("region proxy: whole image + a fixed grid (tfembed data regions, 3x3 = "
                       "10 regions; paper: top-19 R-CNN boxes + whole image)")
        elif cfg.get("image.tower") == "features":
            out.append("region proxy: whole image only (precomputed global features)")
        elif cfg.get("image.regions") == "grid":
            g = cfg.get("image.grid")
            out.append(f"region proxy: {g}x{g} grid + whole image (paper: top-19 R-CNN boxes)")
        else:
            out.append(f"region proxy: the data set's boxes (<= {cfg.get('image.max_regions')}) "
                       "+ whole image (paper: top-19 R-CNN boxes)")
    if recipe == "wang2016":
        out.append(f"sentence features: {cfg.get('text.features')} (paper: HGLMM Fisher vectors)")
    if recipe == "devise":
        out.append(f"label embedding: {cfg.get('labels.word_vectors')} class-name vectors "
                   "(the GBU DeViSE row embeds class attributes)")
    if "train.steps" in cfg:
        opt = f" ({cfg['train.optimizer']}, lr {cfg.get('train.learning_rate')})" \
            if cfg.get("train.optimizer") else ""
        out.append(f"training: {cfg['train.steps']} steps x batch {cfg.get('train.batch_size')}"
                   + opt)
    side = str(cfg.get("semantic_side", "")).rstrip("s")  # zhang2017: notes of one side only
    out += [str(n) for n in cfg.get("table_notes") or [] if side in str(n).lower()]
    return out + STATIC.get(recipe, [])


def siblings(path, res, everything):
    """Other methods of the same zhang2017-style run: same directory tree and config but the
    method (e.g. DEM beside ESZSL and the closed-form regressions)."""
    if "method" not in res["config"]:
        return []
    root = os.path.dirname(os.path.dirname(path))
    base = {k: v for k, v in res["config"].items() if k != "method"}
    return [r for p, r in everything if r is not res and os.path.dirname(os.path.dirname(p)) == root
            and {k: v for k, v in r["config"].items() if k != "method"} == base]


def baselines(path, res, everything, paper, grps):
    out = []
    for suffix, label in BASELINES.get(res["recipe"], []):
        seen = set()
        for glabel, keys in grps:
            base = tuple(re.sub(r"_(wsabie|v_v|vt_v|vt_vt)$", "", k) for k in keys)
            bkeys = [f"{b}_{suffix}" for b in base]
            if base in seen or not all(k in res["metrics"] for k in bkeys):
                continue
            seen.add(base)
            text = f"{label}, {re.sub(r'^[(][^)]*[)][*]? ', '', glabel)}: {values(res, bkeys)}"
            ref = [paper.values.get(k) for k in bkeys] if paper else []
            if any(v is not None for v in ref):
                text += " (paper " + " / ".join(fmt(v) for v in ref) + ")"
            out.append(text)
    for other in siblings(path, res, everything):
        out.append(f"{other['config']['method']} T1 {values(other, ['zsl_top1_per_class'])}, "
                   f"H {values(other, ['gzsl_h'])}")
    if res["recipe"] == "karpathy2015_captions":
        out.append("constant training caption: see chance")
    return out


def command(path, res):
    """(command line, how it was obtained)."""
    argv, recipe = res.get("command"), res["recipe"]
    if argv and os.path.basename(str(argv[0])) == f"{recipe}.py":
        argv = [os.path.relpath(a, cwd) if i == 0 and (cwd := res.get("cwd")) and
                os.path.isabs(a) and a.startswith(cwd + os.sep) else str(a)
                for i, a in enumerate(argv)]
        # From the repository root (where the README's commands run) no `cd` is needed.
        cd = f"cd {shlex.quote(res['cwd'])} && " if res.get("cwd") and not os.path.exists(
            os.path.join(res["cwd"], "recipes", f"{recipe}.py")) else ""
        return cd + "python " + shlex.join(argv), "recorded"
    cfg = res["config"]
    workdir = os.path.dirname(path)
    if "method" in cfg:  # zhang2017: <workdir>/<semantic side>/<method>/results.json
        workdir = os.path.dirname(os.path.dirname(workdir))
    parts = ["python", f"recipes/{recipe}.py", "--data", str(cfg.get("data.source"))]
    if cfg.get("data.root"):
        parts += ["--data-dir", str(cfg["data.root"])]
    parts += ["--workdir", workdir]
    data_keys = sorted(k for k in cfg if k.startswith("data.") and k not in
                       ("data.source", "data.root") and k not in COMMAND_KEYS)
    for key in list(COMMAND_KEYS) + data_keys:
        if cfg.get(key) is not None:
            parts += ["--set", f"{key}={cfg[key]}"]
    how = "reconstructed from the config: other settings were the recipe's defaults at the " \
          "time, the full config is in results.json"
    if argv:
        how += f"; recorded argv was {' '.join(map(str, argv))!r}"
    return shlex.join(parts), how


def _variant(res, skip=()):
    return " · ".join(f"{k.split('.')[-1]}={os.path.basename(str(res['config'][k]))}"
                      for k in VARIANT.get(res["recipe"], [])
                      if k not in skip and _shown(k, res["config"]))


def cell(items):
    return "<br>".join(items) if items else "–"


def report(paths, everything):
    rows, sources, commands = [], [], []
    for path, res in everything:
        paper, why = match(res)
        grps = groups(res)
        old = stale(res)
        if paper and paper not in sources:
            sources.append(paper)
        ref = f" [P{sources.index(paper) + 1}]" if paper else ""
        paper_cells = []
        for label, keys in grps:
            bad = [old[k] for k in keys if k in old]
            vals = [paper.values.get(k) for k in keys] if paper else []
            if paper and bad:
                paper_cells.append(f"{label}: – (no comparable number: {bad[0]})")
            elif paper and any(v is not None for v in vals):
                paper_cells.append(f"{label}: " + " / ".join(fmt(v, k) for v, k in zip(vals, keys))
                                   + ref)
            elif paper:
                paper_cells.append(f"{label}: – (not reported)")
        if not paper:
            paper_cells = [f"– (no comparable number: {why})"]
        cmd = command(path, res)
        if cmd not in commands:
            commands.append(cmd)
        c_ref = f"C{commands.index(cmd) + 1}"
        variant = _variant(res)
        rows.append([res["recipe"], str(res.get("dataset")), f"`{res.get('protocol')}`",
                     variant or "–", cell(paper_cells),
                     cell([f"{label}: {values(res, keys)}" for label, keys in grps]),
                     cell([f"{label}: {values(res, keys, 'chance')}" for label, keys in grps]),
                     cell(baselines(path, res, everything, paper, grps)),
                     cell(deviations(res, paper)),
                     f"{c_ref}: `{path}`" + (" (smoke run)" if res.get("smoke") else "")])
    head = ["recipe", "data set", "protocol", "variant", "paper", "ours", "chance",
            "same-run baselines", "deviations", "run"]
    lines = ["# Reproduction: tfembed runs beside the papers", "",
             "Generated by `python -m tfembed.reports.reproduce " + " ".join(paths) + "` from "
             f"{len(everything)} results.json. Do not edit by hand: rerun the command.", "",
             "Numbers are in the paper's units: % for accuracies, R@K, AP@K and agreement; "
             "BLEU x 100; NDCG/PCC AUC x 100; ranks and N1 skewness as they are. Chance is "
             "measured in the same run (random scores or, for BLEU, the constant training "
             "caption). A paper number appears only for the same data set, protocol, variant "
             "and test-set size; '–' says why not. `[Pn]` cites the paper row; `Cn` is the "
             "command that produced the run.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    lines += seed_means.lines(everything, lambda r: _variant(r, skip=("seed",)), groups,
                              lambda r, k: r["metrics"][k] * scale(r, k), fmt)
    lines += ["", "## Paper numbers cited", ""]
    lines += [f"- **P{i}** {p.citation}. Units: {p.units}. Paper setting: {p.setting or '–'}. "
              f"Checked: {p.checked}." for i, p in enumerate(sources, 1)]
    if not sources:
        lines.append("None of these runs has a comparable paper number.")
    lines += ["", "Table of all entered paper numbers: `tfembed/reports/paper_numbers.py`.", "",
              "## Commands", ""]
    for i, (cmd, how) in enumerate(commands, 1):
        lines += [f"**C{i}** ({how}):", "", "```bash", cmd, "```", ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tfembed.reports.reproduce",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="run directories (searched recursively for "
                        "results.json) or results.json files")
    parser.add_argument("--out", default="REPRODUCTION.md", help="default: ./REPRODUCTION.md")
    args = parser.parse_args(argv)
    try:
        text = report(args.runs, find_results(args.runs))
    except DataError as err:
        print(f"reproduce: error: {err}", file=sys.stderr)
        return 2
    with open(args.out, "w") as f:
        f.write(text + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
