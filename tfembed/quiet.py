"""TensorFlow's C++ log lines off for the command line (recipes and `tfembed` commands);
`--verbose` keeps them.

What prints them, measured on TF 2.21 (CPU, no GPU): while `import tensorflow` loads its shared
libraries, before absl logging is initialised, it writes "WARNING: All log messages before
absl::InitializeLog() ...", the oneDNN (port.cc), CUDA driver (cudart_stub.cc) and
cpu_feature_guard lines straight to file descriptor 2, whatever TF_CPP_MIN_LOG_LEVEL says.
After that, the first device use logs `E0000 ... cuda_platform.cc] failed call to cuInit`,
which TF_CPP_MIN_LOG_LEVEL=3 silences (2 does not: it is an ERROR line).

So `install()` sets TF_CPP_MIN_LOG_LEVEL=3 (unless the caller set it) and, through an import
hook, runs TensorFlow's own import with descriptor 2 pointed at a temporary file, then writes
back every line that is not a C++ log line (a Python warning or traceback still shows). It
imports nothing itself: commands that never import TensorFlow stay fast.
"""

import contextlib
import importlib.abc
import os
import re
import sys
import tempfile

# I0000 00:00:1796191777.305709    6565 port.cc:153] ...
_LOG_LINE = re.compile(r"^[IWEF]\d{4} [\d:.]+\s+\d+ [^\]\s]+:\d+\] ")
_ALSO_DROPPED = ("WARNING: All log messages before absl::InitializeLog() is called",
                 "To enable the following instructions:")  # cpu_feature_guard's second line


def is_log_line(line):
    return bool(_LOG_LINE.match(line)) or line.startswith(_ALSO_DROPPED)


@contextlib.contextmanager
def native_stderr_filtered():
    """Descriptor 2 goes to a temporary file inside the block; the lines that are not C++ log
    lines are written back to stderr afterwards (also when the block raises)."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 (a daemon): nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", "replace")
            kept = [line for line in text.splitlines(True) if not is_log_line(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


class _QuietImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds `tensorflow` with the other finders, and executes it inside the filter."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # once: the real finders locate the package
        import importlib.util

        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            self._loader, spec.loader = spec.loader, self
        return spec

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        module.__spec__.loader = module.__loader__ = self._loader
        with native_stderr_filtered():
            self._loader.exec_module(module)


def install(verbose=False):
    """Hide TensorFlow's C++ log lines from here on (unless `verbose`); True if it did.

    Too late once TensorFlow is imported: its start-up lines are already out and it has read
    TF_CPP_MIN_LOG_LEVEL; then nothing changes.
    """
    if verbose or "tensorflow" in sys.modules:
        return False
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if not any(isinstance(f, _QuietImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietImport())
    return True


def install_for_recipe_script(argv=None):
    """Recipes (`python recipes/NAME.py ...`) import tfembed before anything imports TensorFlow,
    so `tfembed/__init__` calls this: quiet when the main program is a script in a `recipes`
    directory and its command line has no --verbose."""
    main_file = getattr(sys.modules.get("__main__"), "__file__", None) or ""
    if os.path.basename(os.path.dirname(os.path.abspath(main_file))) != "recipes" \
            or not main_file.endswith(".py"):
        return False
    return install(verbose="--verbose" in (sys.argv[1:] if argv is None else argv))
