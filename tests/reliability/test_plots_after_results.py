"""Plots come last and never end a run (issue 14, item 1): results.json, the printed table and
the export are written before any plot; a failing plot is a warning in the notes; with a
features tower the query plot shows the images of the data root."""

import json

import pytest

from tfembed.recipe import run_recipe


def _results(workdir):
    return json.loads((workdir / "results.json").read_text())


def test_reed_on_cub_features_plots_the_root_images(tmp_path, fixtures, capsys):
    """The README's real-CUB command (text_c10 root with images + a features .mat), at smoke
    sizes with the plot on: it used to die in the plot, imshow of a feature vector."""
    cub = fixtures / "cub"
    code = run_recipe("reed2016", ["--smoke", "--workdir", str(tmp_path), "--data", "cub",
                                   "--data-dir", str(cub), "--set",
                                   f"data.features={cub / 'features.mat'}", "--set", "plot=true",
                                   "--export"])
    out = capsys.readouterr()
    assert code == 0, out.err[-3000:]
    assert "zsl_top1_per_image" in out.out  # the printed table
    assert (tmp_path / "export" / "1" / "saved_model.pb").exists()
    assert (tmp_path / "retrieval_queries.png").stat().st_size > 1000
    notes = _results(tmp_path)["notes"]
    assert any(n.startswith("query plot: ") for n in notes), notes


def _failing_plot(workdir, export):
    def plot(*args, **kwargs):
        # What must exist when any plot starts:
        assert (workdir / "results.json").exists()
        assert not export or (workdir / "export" / "1" / "saved_model.pb").exists()
        raise RuntimeError("injected plot failure")
    return plot


def test_failing_query_plot_is_a_warning_after_results_and_export(tmp_path, monkeypatch,
                                                                  capsys):
    from tfembed.experiments import common

    monkeypatch.setattr(common, "plot_queries", _failing_plot(tmp_path, export=True))
    code = run_recipe("reed2016", ["--smoke", "--workdir", str(tmp_path), "--set", "plot=true",
                                   "--export"])
    out = capsys.readouterr()
    assert code == 0, out.err[-3000:]
    assert "warning: query plot failed: RuntimeError: injected plot failure" in out.err
    assert "zsl_top1_per_image" in out.out
    results = _results(tmp_path)
    assert "zsl_top1_per_image" in results["metrics"]
    assert any("injected plot failure" in n for n in results["notes"])


def test_failing_alignment_plot_is_a_warning_after_results_and_export(tmp_path, monkeypatch,
                                                                      capsys):
    from tfembed.experiments import alignment_plot

    monkeypatch.setattr(alignment_plot, "plot_alignment", _failing_plot(tmp_path, export=True))
    code = run_recipe("karpathy2015", ["--smoke", "--workdir", str(tmp_path), "--set",
                                       "plot=True", "--set", "data.num_test=12", "--export"])
    out = capsys.readouterr()
    assert code == 0, out.err[-3000:]
    assert "warning: alignment plot failed: RuntimeError: injected plot failure" in out.err
    assert any("injected plot failure" in n for n in _results(tmp_path)["notes"])


@pytest.mark.parametrize("plot_result", ["note", RuntimeError("boom")])
def test_run_plots_adds_notes_to_results_json(tmp_path, plot_result):
    from tfembed.experiments import common
    from tfembed.training import results as results_lib

    results = results_lib.write_results(str(tmp_path), "r", "d", "p", {"m": 1.0}, {}, {}, {},
                                        notes=["first"])

    def plot():
        if isinstance(plot_result, Exception):
            raise plot_result
        return plot_result

    notes = common.run_plots(str(tmp_path), results, [("test plot", plot)])
    assert _results(tmp_path)["notes"] == ["first"] + notes == results["notes"]
    assert notes == (["note"] if plot_result == "note"
                     else ["warning: test plot failed: RuntimeError: boom"])
