"""tfembed.progress: one line per stage, silent inner stages, no carriage returns off a
terminal, and the loops it wraps compute what they computed before."""

import io

import numpy as np
import pytest

from tfembed import progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture(autouse=True)
def _on(monkeypatch):
    monkeypatch.setattr(progress, "enabled", True)
    monkeypatch.delenv("CI", raising=False)


def test_one_line_per_stage_with_count_and_duration():
    out = io.StringIO()
    with progress.stage("evaluate zero-shot", total=3, unit="queries", stream=out) as bar:
        for _ in range(3):
            bar.update()
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and "\r" not in out.getvalue()
    assert lines[0].startswith("evaluate zero-shot: 3 queries in ") and lines[0].endswith(" s")


def test_inner_stage_is_silent_and_outer_still_writes():
    out = io.StringIO()
    with progress.stage("outer", stream=out):
        with progress.stage("inner", total=2, stream=out) as bar:
            bar.update(2)
    assert [line.split(":")[0] for line in out.getvalue().splitlines()] == ["outer"]


def test_disabled_writes_nothing(monkeypatch):
    monkeypatch.setattr(progress, "enabled", False)
    out = io.StringIO()
    with progress.stage("x", total=1, stream=out) as bar:
        bar.update()
    assert out.getvalue() == ""


def test_terminal_redraws_in_place_but_not_in_ci(monkeypatch):
    monkeypatch.setattr(progress, "REDRAW_SECONDS", 0.0)
    tty = Terminal()
    with progress.stage("embed", total=2, stream=tty) as bar:
        bar.update(), bar.update()
    assert tty.getvalue().count("\r") >= 2 and tty.getvalue().endswith("\n")
    assert "embed: 1/2" in tty.getvalue()
    monkeypatch.setenv("CI", "true")
    ci = Terminal()
    with progress.stage("embed", total=2, stream=ci) as bar:
        bar.update(), bar.update()
    assert "\r" not in ci.getvalue() and len(ci.getvalue().splitlines()) == 1


def test_error_in_a_stage_writes_no_finished_line_and_clears_the_stack():
    out = io.StringIO()
    with pytest.raises(ValueError):
        with progress.stage("broken", stream=out):
            raise ValueError("x")
    assert out.getvalue() == "" and progress.current() is None


def test_counted_loop_left_early_writes_nothing_and_next_stage_is_shown(capsys):
    first = next(iter(progress.Counted([[1, 2], [3]], "batches", total=3)))
    assert first == [1, 2] and progress.current() is None
    assert list(progress.Counted([[1, 2], [3]], "batches", total=3, unit="items")) == \
        [[1, 2], [3]]
    assert capsys.readouterr().err.splitlines()[0].startswith("batches: 3 items in ")


def test_pipeline_loops_are_unchanged_and_report_their_stage(capsys):
    from tfembed.data import pipeline

    x = np.arange(30, dtype=np.float32).reshape(10, 3)
    got = pipeline.embed_in_batches(lambda b: b * 2, x, batch_size=4)
    np.testing.assert_array_equal(got, x * 2)
    batches = pipeline.image_batches(lambda i: i * 10, np.arange(7), batch_size=3)
    assert batches.element_spec.shape.as_list() == [None]  # still usable as the dataset
    assert np.concatenate([b.numpy() for b in batches]).tolist() == [0, 10, 20, 30, 40, 50, 60]
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("embed texts: 10 texts in ")
    assert err[1].startswith("embed images: 7 images in ")
