"""TensorFlow's C++ log lines (oneDNN, CUDA drivers, `E0000 ... failed call to cuInit`) are off
by default in `tfembed` commands and recipes, and back with --verbose. The --verbose runs
show the lines really are printed on this machine, so their absence by default means
something; results and our own error messages are the same either way."""

import json
import os
import re
import subprocess
import sys

import pytest

from tfembed import quiet

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A C++ (absl / TSL) log record: severity + MMDD, time, thread, file:line]
CPP_LINE = re.compile(r"^[IWEF]\d{4} \S+\s+\d+ \S+:\d+\]", re.M)


def run(args, cwd=REPO):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def tfembed(*args):
    return run([sys.executable, "-c", "import sys; from tfembed.cli import main; "
                "sys.exit(main())", *args])


@pytest.fixture(scope="module")
def indexed_export(tmp_path_factory):
    """A tiny export with a brute-force index: `tfembed search` loads TF and runs a device."""
    from tests.api.exports import GALLERY_IDS, Exported
    from tfembed.index import gallery_index
    from tfembed.index.model_files import index_dir

    exported = Exported(tmp_path_factory.mktemp("quiet") / "export", "features")
    gallery_index.build(GALLERY_IDS, exported.gallery, "cosine", backend="brute_force",
                        k=2).save(index_dir(exported.version))
    return exported.base


def test_tfembed_search_is_quiet_unless_verbose(indexed_export):
    quiet_run = tfembed("search", "--model", indexed_export, "a red bird")
    loud = tfembed("search", "--model", indexed_export, "a red bird", "--verbose")
    assert quiet_run.returncode == loud.returncode == 0, quiet_run.stderr + loud.stderr
    assert CPP_LINE.search(loud.stderr), f"no C++ log line even with --verbose:\n{loud.stderr}"
    assert not CPP_LINE.search(quiet_run.stderr), quiet_run.stderr
    assert "InitializeLog" not in quiet_run.stderr
    assert json.loads(quiet_run.stdout) == json.loads(loud.stdout)


def test_errors_still_show_when_quiet(tmp_path):
    result = tfembed("search", "--model", str(tmp_path / "missing"), "a red bird")
    assert result.returncode == 2
    assert "tfembed: error:" in result.stderr and "missing" in result.stderr
    assert not CPP_LINE.search(result.stderr), result.stderr


def test_a_recipe_is_quiet_unless_verbose():
    command = [sys.executable, "recipes/wsabie.py", "--smoke", "--show-config"]
    quiet_run, loud = run(command), run(command + ["--verbose"])
    assert quiet_run.returncode == loud.returncode == 0, quiet_run.stderr + loud.stderr
    assert CPP_LINE.search(loud.stderr), f"no C++ log line even with --verbose:\n{loud.stderr}"
    assert not CPP_LINE.search(quiet_run.stderr), quiet_run.stderr
    assert json.loads(quiet_run.stdout) == json.loads(loud.stdout)


def test_the_filter_drops_log_lines_and_keeps_the_rest(capfd):
    with quiet.native_stderr_filtered():
        os.write(2, b"I0000 00:00:1796191777.305709    6565 port.cc:153] oneDNN custom ops\n"
                    b"a Python warning\n"
                    b"E0000 00:00:1796191780.281762    6565 cuda_platform.cc:52] failed call\n"
                    b"WARNING: All log messages before absl::InitializeLog() is called are\n"
                    b"Traceback (most recent call last):\n")
    err = capfd.readouterr().err
    assert err == "a Python warning\nTraceback (most recent call last):\n"


def test_the_filter_writes_back_what_was_printed_before_an_exception(capfd):
    with pytest.raises(ImportError):
        with quiet.native_stderr_filtered():
            os.write(2, b"W0000 00:00:1.5    1 x.cc:1] noise\nkept\n")
            raise ImportError("boom")
    assert capfd.readouterr().err == "kept\n"
