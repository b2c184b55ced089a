"""Run every recipe command behind REPRODUCTION.md, then regenerate it.

    python -m tfembed.reports.run_all [--out-dir runs/repro] [--smoke] [--only NAME ...]
                                      [--data-root ../shared/data] [--report REPRODUCTION.md]

Each run gets its own workdir `<out-dir>/<name>`, so re-running resumes finished runs (only
their evaluation runs again) and one failing run does not stop the others. Runs whose data
is missing under --data-root are skipped with a message. Exit code 1 if any run failed.
"""

import argparse
import os
import pathlib
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REPO_RECIPES = pathlib.Path(REPO) / "recipes"

# Reed's real CUB descriptions for 35 classes; OLD_CUB = the cub defaults before issue 16.5.
R35 = ["--data", "cub", "--data-dir", "{D}/cub_reed35", "--set",
       "data.features={D}/cub_reed35/lite0.mat"]
R35_DATA = "cub_reed35/lite0.mat"
OLD_CUB = ["--set", "image.projection=linear", "--set", "model.embed_dim=1024", "--set",
           "text.architecture=custom"]

# name -> (recipe, arguments, data needed under --data-root or None); {D} is --data-root.
RUNS = {
    "reed2016-synthetic": ("reed2016", [], None),
    "reed2016-xlsa17-cub": ("reed2016", ["--data", "xlsa17", "--data-dir", "{D}/xlsa17",
                            "--set", "data.features={D}/cub/lite0.mat"], "cub/lite0.mat"),
    "reed2016-cub-reed35": ("reed2016", R35, R35_DATA),
    # The measurements behind the cub defaults (recipes/reed2016.py docstring):
    "reed2016-cub-reed35-identity-custom": ("reed2016", R35 + ["--set", "text.architecture=custom"],
                                            R35_DATA),
    "reed2016-cub-reed35-linear-custom": ("reed2016", R35 + OLD_CUB, R35_DATA),
    "reed2016-cub-reed35-word-linear-custom": ("reed2016", R35 + OLD_CUB + [
        "--set", "text.encoder=word_cnn_rnn"], R35_DATA),
    "reed2016-cub-reed35-bow-linear": ("reed2016", R35 + OLD_CUB + ["--set", "text.encoder=bow"],
                                       R35_DATA),
    "zhang2017-synthetic": ("zhang2017", [], None),
    "zhang2017-xlsa17-cub": ("zhang2017", ["--data", "xlsa17", "--data-dir", "{D}/xlsa17",
                             "--set", "data.dataset=CUB",
                             "--set", "data.features={D}/cub/lite0.mat"], "cub/lite0.mat"),
    "karpathy2015-synthetic": ("karpathy2015", [], None),
    "karpathy2015-flickr8k": ("karpathy2015", ["--data", "flickr8k", "--data-dir",
                              "{D}/flickr8k"], "flickr8k"),
    "wang2016-synthetic": ("wang2016", [], None),
    "wang2016-flickr8k": ("wang2016", ["--data", "flickr8k", "--data-dir", "{D}/flickr8k"],
                          "flickr8k"),
    "wang2016-flickr8k-mean-word-vectors": ("wang2016", ["--data", "flickr8k", "--data-dir",
                                            "{D}/flickr8k", "--set",
                                            "text.features=mean_word_vectors"], "flickr8k"),
    "wang2016-flickr8k-word2vec": ("wang2016", ["--data", "flickr8k", "--data-dir", "{D}/flickr8k",
                                   "--set", "text.word_vectors=train"], "flickr8k"),
    "captions-synthetic": ("karpathy2015_captions", [], None),
    "captions-flickr8k": ("karpathy2015_captions", ["--data", "flickr8k", "--data-dir",
                          "{D}/flickr8k"], "flickr8k"),
    "gordo2017-synthetic": ("gordo2017", [], None),
    "gordo2017-flickr8k": ("gordo2017", ["--data", "flickr8k", "--data-dir", "{D}/flickr8k",
                           "--set", "data.features={D}/flickr8k/lite0_features.npz"],
                           "flickr8k/lite0_features.npz"),
    "wsabie-flickr8k": ("wsabie", ["--data", "flickr8k", "--data-dir", "{D}/flickr8k",
                        "--set", "data.features={D}/flickr8k/lite0_features.npz"],
                        "flickr8k/lite0_features.npz"),
    "devise-synthetic": ("devise", [], None),
    "devise-xlsa17-cub": ("devise", ["--data", "xlsa17", "--data-dir", "{D}/xlsa17",
                          "--set", "data.dataset=CUB", "--set", "data.features={D}/cub/lite0.mat",
                          "--set", "labels.missing=zero"], "cub/lite0.mat"),
}


def command(name, out_dir, data_root, smoke):
    recipe, args, _ = RUNS[name]
    recipe_path = os.path.join("recipes", f"{recipe}.py")  # relative: the recorded command
    if not os.path.exists(recipe_path):                     # reads like the README's
        recipe_path = os.path.join(REPO, recipe_path)
    argv = [sys.executable, recipe_path]
    argv += [a.replace("{D}", data_root) for a in args]
    argv += ["--workdir", os.path.join(out_dir, name)] + (["--smoke"] if smoke else [])
    return argv


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tfembed.reports.run_all",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", default="runs/repro", help="default: runs/repro")
    parser.add_argument("--data-root", default=os.path.join("..", "shared", "data"),
                        help="root of the real data sets (default: ../shared/data)")
    parser.add_argument("--smoke", action="store_true", help="every run at --smoke size")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help=f"run only these (choices: {', '.join(RUNS)})")
    parser.add_argument("--report", default="REPRODUCTION.md", help="default: ./REPRODUCTION.md")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.only or ()) - set(RUNS))
    if unknown:
        parser.error(f"unknown run(s) {unknown}; choices: {', '.join(RUNS)}")
    failed = []
    for name in args.only or RUNS:
        needs = RUNS[name][2]
        if needs and not os.path.exists(os.path.join(args.data_root, needs)):
            print(f"[skip] {name}: {os.path.join(args.data_root, needs)} is missing", flush=True)
            continue
        argv_ = command(name, args.out_dir, args.data_root, args.smoke)
        start = time.time()
        print(f"[run] {name}: {' '.join(argv_[1:])}", flush=True)
        log = os.path.join(args.out_dir, f"{name}.log")
        os.makedirs(args.out_dir, exist_ok=True)
        with open(log, "w") as f:
            code = subprocess.call(argv_, stdout=f, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
        print(f"[{'ok' if code == 0 else 'FAILED'}] {name} in {time.time() - start:.0f} s"
              + ("" if code == 0 else f" (exit {code}; see {log})"), flush=True)
        if code:
            failed.append(name)
    from tfembed.reports import reproduce
    if os.path.isdir(args.out_dir):
        reproduce.main([args.out_dir, "--out", args.report])
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
