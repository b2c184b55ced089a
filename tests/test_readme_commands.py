"""Every command in README.md's ```bash blocks, run in its `--smoke` form (issue 14, item 2).

A README command is either run here or listed in NOT_RUN with the reason;
`test_every_readme_command_is_run_or_listed` fails on a command that is neither (and on a
NOT_RUN / SUBSTITUTED entry that no longer matches a command), so a new README command cannot
go untested silently.

How a README command becomes its smoke run (`smoke_form`):

* set-up parts (`python3 -m venv`, `. .venv/bin/activate`, `pip install`) are what CI itself
  does before running the tests: skipped; the rest of the `&&` chain runs.
* `python recipes/NAME.py ARGS` -> ARGS + `--smoke` + a `--workdir` of its own in a temporary
  directory. The bare `python recipes/NAME.py` gets `<tmp>/runs/NAME`, the path later README
  commands read (`runs/reed2016/export`, `runs/zhang2017/*/*/results.json`); when the recipe's
  full run exports (reed2016) but its smoke config does not, the bare smoke run adds `--export`
  so that the export exists. Checked: exit code 0, results.json with the recipe's README metrics,
  each with its chance level, and the export where one is asked for.
* placeholders -> the fixtures in the published layouts (PLACEHOLDERS, tests/fixtures, made by
  make_fixtures.py); `../shared/data/...` -> the real data, the test skipping cleanly where it
  is absent (TFEMBED_SHARED_DATA moves it).
* `tfembed serve` / `tfembed query` and `tfembed embed` / `tfembed index build` (+ the README's
  `tfembed search`) run as two chains on the tiny reed2016 export: the server listens on
  127.0.0.1 with free ports and is stopped at the end; every wait is bounded.
* SUBSTITUTED: commands run in a cheaper form than written, with the reason.
* two commands whose smoke forms differ only in the workdir (or the order of their flags) run
  once; the second is checked on the first one's outputs.

Recipes and the light `tfembed` subcommands run in this process (`run_recipe`, `cli.main`):
a fresh interpreter costs 5-15 s of TensorFlow import per command on 2 shared cores. Runs with
`--strategy mirrored` (logical CPU devices must be configured before TensorFlow starts),
`tfembed serve` (a server), `tfembed embed` (Beam workers), scripts and `python -m` modules run
as subprocesses with no stdin. TFEMBED_README_SUBPROCESS=1 runs every command as a subprocess.
"""

import contextlib
import dataclasses
import gc
import glob
import hashlib
import io
import json
import os
import pathlib
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
README = REPO / "README.md"
FIXTURES = REPO / "tests" / "fixtures"
SHARED = pathlib.Path(os.environ.get("TFEMBED_SHARED_DATA", REPO.parent / "shared" / "data"))
ALL_SUBPROCESS = os.environ.get("TFEMBED_README_SUBPROCESS") == "1"
TIMEOUT = 900  # seconds, any one command
SERVER_READY_SECONDS = 180

# README placeholder -> fixture (published layouts; see tests/fixtures/make_fixtures.py).
PLACEHOLDERS = {
    "CUB_ROOT": FIXTURES / "cub",                      # CUB_200_2011 + Reed's text_c10
    "FEATURES.mat": FIXTURES / "cub" / "features.mat",  # xlsa17 res101.mat layout
    "FLOWERS_ROOT": FIXTURES / "flowers",              # Oxford-102 + Reed's text_c10
    "FLOWERS_FEATURES.mat": FIXTURES / "flowers" / "features.mat",
    "DIR": FIXTURES / "karpathy_flickr8k",             # Karpathy's dataset_flickr8k.json
    "F.npz": FIXTURES / "karpathy_flickr8k" / "features.npz",  # image_files + features
}
# Relative paths of the README's examples that live in the test's temporary directory.
WORK_PATHS = ("runs/", "photos/", "embeddings/", "data/cub_tfrecords", "bird.png")
SETUP = (["python3", "-m", "venv"], ["python", "-m", "venv"], [".", ".venv/bin/activate"],
         ["source", ".venv/bin/activate"], ["pip", "install"], ["python", "-m", "pip", "install"])

# Substring of the command's words -> why it is not run here.
NOT_RUN = {
    "tfembed app": "a web server that runs until stopped; tests/app/test_browser.py starts it "
                   "(python -m tfembed.app --model EXPORT --port 0) on a tiny run's export and "
                   "drives it in headless Chromium",
    "python -m pytest": "CI creates the venv, installs and runs the test suite itself; a test "
                        "cannot run the suite it is part of (its `python recipes/reed2016.py` "
                        "twin is run)",
    "--runner DataflowRunner": "Google Cloud Dataflow needs a GCP project, gs:// buckets and "
                               "credentials; the DirectRunner forms of `tfembed embed` run in "
                               "the gallery chain",
    "--runner FlinkRunner": "needs an Apache Flink cluster and a Docker image with tfembed; the "
                            "DirectRunner forms run in the gallery chain",
    "--runner SparkRunner": "needs an Apache Spark cluster and a Docker image with tfembed; the "
                            "DirectRunner forms run in the gallery chain",
}
# Substring -> what runs instead and why.
SUBSTITUTED = {
    "tfembed data regions": "Lite0 over 10,000 crops takes ~5 min: the smoke form adds --smoke "
                            "(the images a --smoke recipe run keeps, 64-pixel crops, ~30 s)",
    "benchmarks/run_all.py --quick": "the --quick suite takes ~5 min on 2 cores: run_all.py "
                                     "runs `--quick --only matmul_roofline` (the same script "
                                     "subprocess, JSON and SUMMARY.md path) into a temporary "
                                     "--results-dir",
    "benchmarks/run_all.py --collect-only": "into a temporary --results-dir holding a copy of "
                                            "benchmarks/results/*.json, so the committed "
                                            "SUMMARY.md is not rewritten",
    "--max-trials 20": "a 20-trial search takes hours: the smoke form searches 2 trials; the "
                       "--retrain-best command resumes that search, retrains the best and exports",
    "python -m tfembed.reports.run_all": "the full reproduction takes ~1.5 h: its own --smoke "
                                         "form with --only reed2016-synthetic (one run through "
                                         "its runner, logs and report); the README's next "
                                         "command, `reproduce runs/repro`, reads that run",
}
# `python -m MODULE` commands this file knows: extra arguments of their smoke form, and the
# directory they write (what later commands read). Anything else is a CannotRun.
MODULES = {
    "tfembed.reports.zsl_table": ([], None),
    "tfembed.reports.reproduce": ([], None),
    "tfembed.reports.run_all": (["--smoke", "--only", "reed2016-synthetic"], "runs/repro"),
}
SMOKE_MAX_TRIALS = 2

# The README's metrics per recipe (each must come with its chance level).
IMAGE_SENTENCE = ["i2t_r@1", "i2t_r@5", "i2t_r@10", "i2t_medr", "i2t_meanr", "t2i_r@1",
                  "t2i_r@5", "t2i_r@10", "t2i_medr", "t2i_meanr", "rsum"]
RECIPE_METRICS = {
    "reed2016": ["zsl_top1_per_image", "zsl_top1_per_class", "retrieval_ap@1", "retrieval_ap@5",
                 "retrieval_ap@10", "retrieval_ap@50"],
    "zhang2017": ["zsl_top1_per_class", "gzsl_u", "gzsl_s", "gzsl_h", "hubness_n1_skewness"],
    "karpathy2015": IMAGE_SENTENCE,
    "wang2016": IMAGE_SENTENCE,
    "gordo2017": ["ndcg_auc", "pcc_auc"],
    "wsabie": ["ndcg_auc", "pcc_auc"],
    "devise": ["zsl_top1_per_class", "gzsl_u", "gzsl_s", "gzsl_h"],
}
# Metrics that need several descriptions per image (xlsa17 has one attribute vector per class).
WITH_DESCRIPTIONS = {"reed2016": ["retrieval_single_query_ap@50"]}
RESULTS_GLOB = {"zhang2017": "*/*/results.json"}  # one run per semantic side and method


# ---------------------------------------------------------------------------------- parsing

@dataclasses.dataclass
class Command:
    line: int
    raw: str      # continuations joined, as written (quotes kept)
    words: list   # shlex words, comments dropped

    @property
    def text(self):
        return " ".join(self.words)


def readme_commands(text):
    """Commands of the ```bash blocks: `\\` continuations joined, comments dropped."""
    out, in_bash, pending, start = [], False, "", 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not in_bash:
            in_bash = stripped.startswith("```bash")
            continue
        if stripped.startswith("```"):
            in_bash = False
            continue
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        start = start if pending else number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        raw = pending + stripped
        pending = ""
        words = shlex.split(raw, comments=True)
        if words:
            out.append(Command(start, " ".join(raw.split()), words))
    return out


def matching(table, command):
    return [key for key in table if key in command.text]


# ------------------------------------------------------------------------------- smoke form

class CannotRun(Exception):
    """A README command this test does not know how to run (it must be in NOT_RUN)."""


@dataclasses.dataclass
class Step:
    command: Command
    kind: str          # recipe | tfembed | module | script
    program: str       # recipe name, tfembed subcommand, module or script path
    argv: list         # arguments after the program
    workdir: pathlib.Path = None
    needs_shared: bool = False
    bare: bool = False  # `python recipes/NAME.py` with no arguments
    globs: tuple = ()   # unquoted shell globs the shell would expand

    @property
    def key(self):
        return (self.kind, self.program, tuple(self.argv))

    @property
    def same_run(self):
        """The key up to the workdir and the order of the flags: two README commands with the
        same smoke form run once (e.g. `--smoke --tune random --max-trials 2` and the smoke form
        of the 20-trial search)."""
        units, unit = [], []
        for word in self.argv:
            if word.startswith("--") and unit:
                units.append(tuple(unit))
                unit = []
            unit.append(word)
        units.append(tuple(unit))
        units = sorted(u for u in units if u and u[0] != "--workdir")
        return (self.kind, self.program, tuple(units))

    def describe(self):
        prog = {"recipe": f"recipes/{self.program}.py", "tfembed": f"tfembed {self.program}",
                "module": f"python -m {self.program}", "script": self.program}[self.kind]
        return " ".join([prog] + [shlex.quote(a) for a in self.argv])


def _slug(text):
    """A directory name for `text`; a long one keeps a digest of the rest, so two commands that
    share their first 70 characters never share a workdir."""
    slug = re.sub(r"[^A-Za-z0-9_.=-]+", "_", text).strip("_")
    if len(slug) <= 80:
        return slug
    return f"{slug[:70]}_{hashlib.sha1(slug.encode()).hexdigest()[:9]}"


def _quoted(raw):
    return {a or b for a, b in re.findall(r"'([^']*)'|\"([^\"]*)\"", raw)}


def substitute(word, area, step, standalone=True):
    """A README word with its placeholder / relative path replaced (`key=value`: the value)."""
    if "=" in word and not word.startswith("-"):  # --set key=value: a value such as CUB
        key, value = word.split("=", 1)            # is a value, not a placeholder
        return f"{key}={substitute(value, area, step, standalone=False)}"
    if word.startswith("../shared/data"):
        step.needs_shared = True
        return str(SHARED) + word[len("../shared/data"):]
    if word in PLACEHOLDERS:
        return str(PLACEHOLDERS[word])
    if word.startswith("$PWD/"):
        word = word[len("$PWD/"):]
    if word.startswith(WORK_PATHS):
        return str(area / word)
    if word == "..." or word.startswith("gs://") or \
            standalone and re.fullmatch(r"[A-Z][A-Z0-9_]*(:\d+)?", word):
        raise CannotRun(f"placeholder {word!r} has no fixture")
    return word


def smoke_form(command, area):
    """The Step that runs `command` here, or CannotRun."""
    parts, part = [], []
    for word in command.words + ["&&"]:
        if word == "&&":
            parts.append(part)
            part = []
        else:
            part.append(word)
    runnable = [p for p in parts if not any(p[:len(s)] == s for s in SETUP)]
    if len(runnable) != 1:
        raise CannotRun(f"expected one command after the set-up, got {len(runnable)}")
    words = runnable[0]
    if words[:3] == ["python", "-m", "pytest"]:
        raise CannotRun("pytest")
    if len(words) >= 2 and words[0] == "python" and re.fullmatch(r"recipes/\w+\.py", words[1]):
        step = Step(command, "recipe", words[1][len("recipes/"):-3], [])
    elif words[:2] == ["python", "-m"] and len(words) > 2:
        if words[2] not in MODULES:
            raise CannotRun(f"module {words[2]}: add its smoke form to MODULES")
        step = Step(command, "module", words[2], [])
    elif len(words) >= 2 and words[0] == "python" and words[1].startswith("benchmarks/"):
        step = Step(command, "script", words[1], [])
    elif words[0] == "tfembed" and len(words) > 1:
        if words[1] == "app":
            raise CannotRun("tfembed app: a server that runs until stopped")
        step = Step(command, "tfembed", words[1], [])
    else:
        raise CannotRun(f"unknown program {' '.join(words[:2])!r}")
    rest = words[2:] if step.kind != "module" else words[3:]
    if "--runner" in rest and rest[rest.index("--runner") + 1] != "DirectRunner":
        raise CannotRun(f"runner {rest[rest.index('--runner') + 1]}")
    quoted = _quoted(command.raw)
    argv, globs = [], []
    for word in rest:
        new = substitute(word, area, step)
        if any(c in word for c in "*?[") and word not in quoted:
            globs.append(new)
        argv.append(new)
    step.argv, step.globs = argv, tuple(globs)
    if step.kind == "tfembed" and step.program == "data" and argv[:1] == ["regions"]:
        step.argv = argv + ["--smoke"]
    if step.kind == "recipe":
        _recipe_smoke(step, area)
    elif step.kind == "module":
        extra, writes = MODULES[step.program]
        step.argv += extra
        step.workdir = area / writes if writes else None
    elif step.kind == "script" and step.program == "benchmarks/run_all.py":
        if "--quick" not in argv and "--collect-only" not in argv:
            raise CannotRun("the full benchmark suite (~35 min)")
        step.argv = ["--quick", "--only", "matmul_roofline"] if "--quick" in argv else argv
        step.workdir = area / ("bench-quick" if "--quick" in argv else "bench-collect")
        step.argv = step.argv + ["--results-dir", str(step.workdir)]
    elif step.kind == "script":  # one benchmark alone: its --quick form, JSON out of the repo
        step.workdir = area / "bench-one"
        step.argv = [a for a in argv if a != "--quick"] + ["--quick"]
        if "--out" not in argv:
            step.argv += ["--out", str(step.workdir / (pathlib.Path(step.program).stem + ".json"))]
    return step


def _recipe_smoke(step, area):
    argv = step.argv
    step.bare = not argv
    if "--max-trials" in argv:
        i = argv.index("--max-trials") + 1
        argv[i] = str(min(int(argv[i]), SMOKE_MAX_TRIALS))
    if "--workdir" in argv:
        i = argv.index("--workdir") + 1
        argv[i] = str(area / argv[i])  # runs/... was made absolute already; others go here too
        step.workdir = pathlib.Path(argv[i])
    else:
        step.workdir = (area / "runs" / step.program if step.bare else
                        area / "work" / _slug(f"{step.program} {' '.join(step.command.words[2:])}"))
        argv += ["--workdir", str(step.workdir)]
    if "--smoke" not in argv:
        argv.append("--smoke")


def plan(area):
    """[(Command, Step or None, reason)] for every README command."""
    out = []
    for command in readme_commands(README.read_text(encoding="utf-8")):
        try:
            out.append((command, smoke_form(command, area), None))
        except CannotRun as err:
            out.append((command, None, str(err)))
    return out


def chain_of(step):
    if step.kind == "tfembed" and step.program in ("serve", "query"):
        return "serve"
    if step.kind == "tfembed" and step.program in ("embed", "index", "search"):
        return "gallery"
    return None


# ------------------------------------------------------------------------------- running

@dataclasses.dataclass
class Result:
    code: object
    out: str
    err: str
    seconds: float

    def tail(self, lines=25):
        text = (self.out + "\n" + self.err).strip().splitlines()
        return "\n".join(text[-lines:])


def child_env():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CI="true", MPLBACKEND="Agg",
               PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def program_argv(step):
    if step.kind == "recipe":
        return [sys.executable, str(REPO / "recipes" / f"{step.program}.py")]
    if step.kind == "tfembed":
        return [sys.executable, "-m", "tfembed.cli", step.program]
    if step.kind == "module":
        return [sys.executable, "-m", step.program]
    return [sys.executable, str(REPO / step.program)]


def run_subprocess(argv, cwd, timeout=TIMEOUT):
    started = time.time()
    proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=child_env(),
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: Beam workers too
        out, err = proc.communicate()
        code = f"timeout after {timeout} s"
    return Result(code, out, err, time.time() - started)


def run_in_process(fn, argv, cwd):
    out, err = io.StringIO(), io.StringIO()
    started, old = time.time(), os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = fn(list(argv))
    except SystemExit as exit_:
        code = exit_.code
    finally:
        os.chdir(old)
    return Result(code or 0, out.getvalue(), err.getvalue(), time.time() - started)


def in_process(step):
    if ALL_SUBPROCESS:
        return False
    if step.kind == "recipe":
        return "--strategy" not in step.argv or \
            step.argv[step.argv.index("--strategy") + 1] == "default"
    return step.kind == "tfembed" and step.program != "serve"


def execute(step, cwd):
    argv = list(step.argv)
    for pattern in step.globs:  # as bash: a glob that matches nothing stays as written
        matches = sorted(glob.glob(pattern))
        i = argv.index(pattern)
        argv[i:i + 1] = matches or [pattern]
    result = _execute(step, argv, cwd)
    where = "in process" if in_process(step) else "subprocess"
    print(f"[readme] {result.seconds:6.1f} s  {where:10}  {step.describe()}", flush=True)
    return result


def _execute(step, argv, cwd):
    if not in_process(step):
        return run_subprocess(program_argv(step) + argv, cwd)
    if step.kind == "recipe":
        from tfembed.recipe import run_recipe
        result = run_in_process(lambda a: run_recipe(step.program, a), argv, cwd)
        import keras
        keras.backend.clear_session()
        gc.collect()
        return result
    from tfembed.cli import main
    return run_in_process(lambda a: main([step.program] + a), argv, cwd)


class Runner:
    """Runs each Step once per session (later commands and chains reuse the earlier runs)."""

    def __init__(self, area):
        self.area, self.done, self.steps = area, {}, {}
        area.mkdir(parents=True, exist_ok=True)
        for command, step, _ in plan(area):
            if step is not None:
                self.steps[command.line] = step

    def producer(self, step):
        """The earlier README step that writes the runs/NAME this one reads (the bare recipe
        run behind runs/reed2016/export, the search a --retrain-best resumes, run_all's
        runs/repro), or None."""
        runs = self.area / "runs"
        for word in step.argv:
            if word.startswith(str(runs) + os.sep):
                name = pathlib.Path(word).relative_to(runs).parts[0]
                for other in self.steps.values():
                    if other.workdir == runs / name and other.command.line < step.command.line:
                        return other
        return None

    def ensure(self, step):
        """Run `step` (after what it needs) unless already run; returns its Result."""
        if step.needs_shared and not SHARED.is_dir():
            pytest.skip(f"real data not present at {SHARED}")
        if step.kind == "recipe" and step.bare and "--export" not in step.argv \
                and exports_when_full(step.program):
            step.argv.append("--export")
        if step.key in self.done:
            return self.done[step.key]
        for other in self.steps.values():
            if other is not step and other.key in self.done and other.same_run == step.same_run:
                step.workdir = other.workdir  # its outputs are checked where they are
                return self.done[other.key]
        needed = self.producer(step)
        if needed is not None:
            check(self, needed, self.ensure(needed))
        if step.kind == "script" and "--collect-only" in step.argv:
            step.workdir.mkdir(parents=True, exist_ok=True)  # the JSONs of the committed run
            for path in sorted((REPO / "benchmarks" / "results").glob("*.json")):
                shutil.copy(path, step.workdir / path.name)
        result = execute(step, self.area)
        self.done[step.key] = result
        return result


def exports_when_full(name):
    from tfembed.recipe import load_recipe

    module = load_recipe(name)
    full, smoke = module.get_config(), module.get_config(smoke=True)
    return bool(full.get("export", {}).get("enabled")) and not smoke["export"].get("enabled")


# ------------------------------------------------------------------------------- checks

def check(runner, step, result):
    """Exit code 0 and the outputs the README promises."""
    assert result.code == 0, (f"README command `{step.command.text}` (line {step.command.line}) "
                              f"ran as `{step.describe()}` and exited {result.code}:\n"
                              f"{result.tail()}")
    if step.kind == "recipe":
        check_recipe(step)
    elif step.kind == "module" and step.program == "tfembed.reports.run_all":
        assert "[ok] reed2016-synthetic" in result.out, result.out
        assert (step.workdir / "reed2016-synthetic" / "results.json").is_file()
    elif step.kind == "module" and step.program == "tfembed.reports.reproduce":
        out = pathlib.Path(runner.area, step.argv[step.argv.index("--out") + 1])
        assert "reed2016" in out.read_text(), f"{out} does not list the reed2016 run"
    elif step.kind == "module" and step.program == "tfembed.reports.zsl_table":
        rows = [line for line in result.out.splitlines() if line.startswith("| ")]
        assert rows and rows[0].startswith("| semantic side | method | ZSL T1"), result.out
        assert len(rows) >= 2, f"no table rows:\n{result.out}"
    elif step.kind == "script" and step.program == "benchmarks/run_all.py":
        summary = step.workdir / "SUMMARY.md"
        assert summary.is_file(), f"{step.describe()}: no {summary}"
        assert "| matmul_roofline |" in summary.read_text()
    elif step.kind == "script":
        out = json.loads(pathlib.Path(step.argv[step.argv.index("--out") + 1]).read_text())
        assert out.get("summary"), f"{step.describe()}: no summary rows"
    elif step.kind == "tfembed" and step.argv[:1] == ["stats"]:
        stats = json.loads(result.out)
        assert stats["images"] > 0 and stats["classes"] > 0, stats


def check_recipe(step):
    argv, workdir = step.argv, step.workdir
    if "--tune" in argv:
        assert (workdir / "best_hyperparameters.json").is_file()
        assert (workdir / "trials.csv").is_file()
        if "--retrain-best" not in argv:
            return
        workdir = workdir / "best"
    if step.program not in RECIPE_METRICS:
        pytest.fail(f"recipe {step.program}: add its README metrics to RECIPE_METRICS")
    files = sorted(workdir.glob(RESULTS_GLOB.get(step.program, "results.json")))
    assert files, f"{step.describe()}: no results.json under {workdir}"
    for path in files:
        results = json.loads(path.read_text())
        assert results["recipe"] == step.program, path
        metrics = results["metrics"]
        expected = RECIPE_METRICS[step.program]
        if results["dataset"].split("/")[0] != "xlsa17":
            expected = expected + WITH_DESCRIPTIONS.get(step.program, [])
        missing = [m for m in expected if m not in metrics]
        assert not missing, f"{path}: metrics {missing} missing; has {sorted(metrics)}"
        assert set(metrics) <= set(results["chance"]), \
            f"{path}: no chance level for {sorted(set(metrics) - set(results['chance']))}"
    if "--export" in argv:
        versions = sorted(workdir.glob("export/*/saved_model.pb"))
        assert versions, f"{step.describe()}: no SavedModel under {workdir}/export"


# ------------------------------------------------------------------------------- tests

@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    return Runner(tmp_path_factory.mktemp("readme"))


_COLLECT_AREA = pathlib.Path("/nonexistent-readme-area")
PLAN = plan(_COLLECT_AREA)
INDEPENDENT = [(c, s) for c, s, _ in PLAN if s is not None and chain_of(s) is None]
CHAINS = sorted({chain_of(s) for _, s, _ in PLAN if s is not None} - {None})


def _id(command):
    words = command.words
    setup = [i for i, w in enumerate(words) if w == "&&"]
    text = " ".join(words[setup[-1] + 1:]) if setup else command.text
    text = text.replace("../shared/data/", "shared/")
    return ("set-up && " if setup else "") + text


def test_every_readme_command_is_run_or_listed():
    """A README command this file cannot run must be in NOT_RUN; entries must still match."""
    problems = []
    for command, step, reason in PLAN:
        listed = matching(NOT_RUN, command)
        if step is None and not listed:
            problems.append(f"line {command.line}: `{command.text}` cannot run here ({reason}) "
                            f"and is not in NOT_RUN")
        if step is not None and listed:
            problems.append(f"line {command.line}: `{command.text}` runs here but matches "
                            f"NOT_RUN {listed}")
        if len(listed) > 1:
            problems.append(f"line {command.line}: matches several NOT_RUN entries {listed}")
    for table in (NOT_RUN, SUBSTITUTED):
        for key in table:
            if not any(key in c.text for c, _, _ in PLAN):
                problems.append(f"stale entry {key!r}: no README command contains it")
    assert not problems, "\n".join(problems)
    assert INDEPENDENT and CHAINS == ["gallery", "serve"]


@pytest.mark.parametrize("command", [c for c, _ in INDEPENDENT],
                         ids=[_id(c) for c, _ in INDEPENDENT])
def test_readme_command(runner, command):
    step = runner.steps[command.line]
    result = runner.ensure(step)
    check(runner, step, result)


def _chain_steps(runner, name):
    return [s for _, s in sorted(runner.steps.items()) if chain_of(s) == name]


def _export_step(runner, steps):
    producers = {id(p): p for p in map(runner.producer, steps) if p is not None}
    assert len(producers) == 1, \
        f"the chain needs one export run, found {[p.describe() for p in producers.values()]}"
    (producer,) = producers.values()
    check(runner, producer, runner.ensure(producer))
    exports = sorted((producer.workdir / "export").glob("*/saved_model.pb"))
    assert exports, f"{producer.describe()} wrote no export"
    return producer


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ports(steps):
    """README port -> a free port here (--port / --rest_api_port values, HOST:PORT words)."""
    ports = {}
    for s in steps:
        for before, word in zip([""] + s.argv, s.argv):
            port = word if before in ("--port", "--rest_api_port") else \
                (re.findall(r"^[\w.-]+:(\d+)$", word) or [None])[0]
            if port:
                ports.setdefault(port, str(free_port()))
    return ports


def _with_ports(step, ports):
    argv = []
    for word in step.argv:
        for old, new in ports.items():
            word = re.sub(rf"(^|:){old}$", rf"\g<1>{new}", word)
        argv.append(word.replace("localhost:", "127.0.0.1:"))
    return dataclasses.replace(step, argv=argv)


def _bird_png(area):
    from PIL import Image

    path = area / "bird.png"
    if not path.exists():
        source = sorted((FIXTURES / "cub" / "images").glob("*/*.jpg"))[0]
        Image.open(source).convert("RGB").save(path)
    return path


def serve_until_stopped(step, area):
    """Start `tfembed serve`; wait (bounded) until its REST API lists the model AVAILABLE."""
    argv = step.argv
    rest = argv[argv.index("--rest_api_port") + 1]
    name = argv[argv.index("--model_name") + 1]
    log = open(area / f"serve-{rest}.log", "w")
    proc = subprocess.Popen(program_argv(step) + argv, cwd=area, stdin=subprocess.DEVNULL,
                            stdout=log, stderr=subprocess.STDOUT, env=child_env(),
                            start_new_session=True)
    deadline = time.time() + SERVER_READY_SECONDS
    status = None
    while time.time() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{rest}/v1/models/{name}",
                                        timeout=5) as reply:
                status = json.loads(reply.read())
            if any(v["state"] == "AVAILABLE" for v in status["model_version_status"]):
                return proc, log
        except OSError:
            pass
        time.sleep(0.5)
    stop(proc, log)
    pytest.fail(f"`{step.command.text}` not serving {name} after {SERVER_READY_SECONDS} s "
                f"(exit {proc.returncode}, last status {status}):\n"
                f"{(area / f'serve-{rest}.log').read_text()[-3000:]}")


def stop(proc, log):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    log.close()
    return proc.returncode


def test_readme_chain_export_serve_query(runner):
    """runs/reed2016/export (the bare reed2016 smoke run) -> tfembed serve -> tfembed query."""
    steps = _chain_steps(runner, "serve")
    _export_step(runner, steps)
    ports = _ports(steps)
    steps = [_with_ports(s, ports) for s in steps]
    serve = [s for s in steps if s.program == "serve"]
    assert len(serve) == 1, "the serving chain needs exactly one `tfembed serve` command"
    _bird_png(runner.area)
    proc, log = serve_until_stopped(serve[0], runner.area)
    try:
        for step in steps:
            if step.program == "serve":
                continue
            result = execute(step, runner.area)
            check(runner, step, result)
            reply = json.loads(result.out)
            if "text" in step.argv:
                texts = step.argv[step.argv.index("text") + 1:]
                assert len(reply["embeddings"]) == len(texts) and reply["embeddings"][0], reply
            elif "classify" in step.argv:
                assert reply["predictions"][0] in reply["classes"], reply
    finally:
        code = stop(proc, log)
    assert code == 0, f"tfembed serve exited {code} on SIGTERM (graceful shutdown expected)"


def test_readme_chain_export_embed_index_search(runner):
    """runs/reed2016/export -> tfembed embed (images, TFRecords) -> tfembed index build ->
    tfembed search (README, "Search and serve")."""
    steps = _chain_steps(runner, "gallery")
    producer = _export_step(runner, steps)
    area = runner.area
    photos = sorted((FIXTURES / "cub" / "images").glob("*/*.jpg"))
    for path in photos:  # `photos/**.jpg`: the cub fixture's JPEGs
        target = area / "photos" / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    if any(str(area / "data/cub_tfrecords") in s.argv for s in steps):
        records = Step(Command(0, "tfembed data tfrecords (README, Data)", []), "tfembed", "data",
                       ["tfrecords", "--source", "cub", "--root", str(FIXTURES / "cub"),
                        "--out", str(area / "data" / "cub_tfrecords")])
        check(runner, records, execute(records, area))
    export = producer.workdir / "export"
    version = sorted(export.glob("*/saved_model.pb"))[-1].parent
    recorded = json.loads((version / "assets.extra" / "tfembed.json").read_text())
    for step in steps:
        result = execute(step, area)
        check(runner, step, result)
        argv = step.argv
        if step.program == "embed":
            out = pathlib.Path(argv[argv.index("--out") + 1])
            summary = json.loads((out / "summary.json").read_text())
            assert summary["embedded"] == len(photos) and summary["failed"] == 0, summary
            assert sorted(out.glob("embeddings-*.tfrecord"))
        elif step.program == "index":
            index = version / "assets.extra" / "gallery_index"
            meta = json.loads((index / "meta.json").read_text())
            assert meta["backend"] == argv[argv.index("--backend") + 1], meta
            assert meta["metric"] == recorded["metric"], (meta, recorded)  # the model's scorer
            assert meta["count"] == (len(photos) if "--embeddings" in argv else
                                     recorded["gallery_size"]), meta
    search = Step(Command(0, "tfembed search (README, Search and serve)", []), "tfembed",
                  "search", ["--model", str(export), "a red bird with a short beak",
                             "--image", str(_bird_png(area)), "--k", "3"])
    result = execute(search, area)
    check(runner, search, result)
    answers = json.loads(result.out)
    assert len(answers) == 2 and all(1 <= len(a["results"]) <= 3 for a in answers), answers
