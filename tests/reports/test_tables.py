"""The printed results table says each metric's unit and converts to it consistently."""

from tfembed.reports import tables


def test_units_of_the_library_metrics():
    assert tables.unit("i2t_r@5") == ("%", 1.0)  # stored in % already
    assert tables.unit("rsum") == ("%", 1.0)
    assert tables.unit("t2i_medr") == ("rank", 1.0)
    assert tables.unit("zsl_top1_per_class_cosine") == ("%", 100.0)  # stored as a fraction
    assert tables.unit("gzsl_h") == ("%", 100.0)
    assert tables.unit("retrieval_map@50_tfidf_ridge") == ("%", 100.0)
    assert tables.unit("phrase_box_accuracy_argmax") == ("%", 100.0)
    assert tables.unit("hubness_n1_skewness") == ("skewness", 1.0)
    assert tables.unit("annotation_p@5") == ("%", 100.0)
    assert tables.unit("human_triplet_agreement_wsabie") == ("%", 100.0)
    assert tables.unit("ndcg_auc_v_v") == ("score", 1.0)
    assert tables.unit("bleu_4") == ("score", 1.0)


def _results(**extra):
    res = {"recipe": "zhang2017", "dataset": "birds", "protocol": "gbu_per_class",
           "metrics": {"zsl_top1_per_class": 0.4167, "i2t_r@1": 12.5, "i2t_medr": 7.0},
           "chance": {"zsl_top1_per_class": 0.25, "i2t_r@1": 0.1},
           "config": {"method": "eszsl", "semantic_side": "attributes"}}
    res.update(extra)
    return res


def test_table_rows_are_in_their_unit_and_the_title_names_method_and_side():
    text = tables.format_results(_results(smoke=True))
    lines = text.splitlines()
    assert "method eszsl, semantic side attributes" in lines[0] and "smoke run" in lines[0]
    assert lines[1].split() == ["metric", "value", "chance", "unit"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:]}
    assert rows["zsl_top1_per_class"] == ["41.67", "25.00", "%"]
    assert rows["i2t_r@1"] == ["12.50", "0.10", "%"]
    assert rows["i2t_medr"] == ["7.0000", "rank"]  # no chance recorded: blank column


def test_a_real_run_is_not_called_smoke():
    assert "smoke" not in tables.format_results(_results(smoke=False)).splitlines()[0]


def test_zsl_table_names_side_and_method_and_says_smoke():
    from tfembed.reports import zsl_table

    real = _results(smoke=False)
    smoke = _results(smoke=True)
    assert "Smoke run" not in zsl_table.markdown([real])
    table = zsl_table.markdown([real, smoke])
    assert "| attributes | eszsl | 41.7 (25.0) |" in table and "Smoke run (--smoke)" in table


def test_reproduce_marks_smoke_runs(tmp_path):
    import json

    from tfembed.reports import reproduce

    for name, smoke in (("real", False), ("tiny", True)):
        path = tmp_path / name / "results.json"
        path.parent.mkdir()
        res = _results(smoke=smoke, recipe="devise", notes=[], timing={}, versions={})
        res["config"] = {"recipe": "devise", "protocol": "gbu_per_class"}
        path.write_text(json.dumps(res))
    text = reproduce.report([str(tmp_path)], reproduce.find_results([str(tmp_path)]))
    rows = [line for line in text.splitlines() if line.startswith("| devise")]
    marked = [("tiny" in r, "(smoke run)" in r) for r in rows]
    assert sorted(marked) == [(False, False), (True, True)]
