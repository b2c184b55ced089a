"""tfembed.reports.reproduce over hand-written results.json files (no training, no TensorFlow)."""

import json

import pytest

from tfembed.reports import reproduce
from tfembed.reports.paper_numbers import PAPERS


def write(root, rel, recipe, dataset, protocol, metrics, chance, config, notes=(), command=None,
          cwd="/nonexistent/tfembed"):
    path = root / rel / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    res = {"recipe": recipe, "dataset": dataset, "protocol": protocol, "metrics": metrics,
           "chance": chance, "config": {"recipe": recipe, "protocol": protocol, **config},
           "notes": list(notes), "timing": {}, "versions": {}}
    if command:
        res["command"], res["cwd"] = command, cwd
    path.write_text(json.dumps(res))
    return path


REED_CFG = {"data.source": "cub", "data.root": "CUB", "text.encoder": "char_cnn_rnn",
            "model.task": "ds_sje", "text.rnn_cell": "gru", "image.tower": "features",
            "data.features": "feats/googlenet.mat", "model.task_options.violation": "sum",
            "train.steps": 3000, "train.batch_size": 40}


def reed(root, rel, chance=0.02, renamed=True, **cfg):
    metrics = {"zsl_top1_per_image": 0.5, "zsl_top1_per_class": 0.49, "retrieval_ap@50": 0.4}
    if renamed:
        metrics["retrieval_map@50"] = 0.3
    return write(root, rel, "reed2016", "cub", "reed_per_image", metrics,
                 {k: chance for k in metrics}, {**REED_CFG, **cfg},
                 command=["recipes/reed2016.py", "--data", "cub", "--data-dir", "CUB"])


def zhang(root, side, method, t1, dataset="xlsa17/CUB"):
    metrics = {"zsl_top1_per_class": t1, "gzsl_u": 0.3, "gzsl_s": 0.6, "gzsl_h": 0.4,
               "hubness_n1_skewness": -0.3}
    chance = {"zsl_top1_per_class": 0.02, "gzsl_u": 0.005, "gzsl_s": 0.005, "gzsl_h": 0.005,
              "hubness_n1_skewness": 0.24}
    cfg = {"data.source": "xlsa17", "data.root": "../shared/data/xlsa17", "data.dataset": "CUB",
           "data.features": "../shared/data/cub/lite0.mat", "semantic_side": side,
           "method": method, "train.steps": 3000, "train.batch_size": 64,
           "table_notes": ["the class sentence embeddings come from Reed's encoder"]}
    return write(root, f"zhang/{side}/{method}", "zhang2017", dataset, "gbu_per_class", metrics,
                 chance, cfg)


def rows(text):
    """{run path: the table row} of a generated REPRODUCTION.md."""
    out = {}
    for line in text.splitlines():
        if line.startswith("| ") and "results.json`" in line:
            out[line.rsplit("`", 2)[-2]] = line
    return out


def build(*paths):
    found = reproduce.find_results([str(p) for p in paths])
    text = reproduce.report([str(p) for p in paths], found)
    return text, rows(text)


def test_reed_row_cites_table_1_with_ours_chance_and_deviations(tmp_path):
    path = reed(tmp_path, "reed")
    text, table = build(tmp_path)
    row = table[str(path)]
    assert "top-1/image: 54.0 [P1]" in row and "AP@50: 45.6 [P1]" in row
    assert "top-1/image: 50.0<br>top-1/class: 49.0<br>AP@50: 40.0" in row  # ours, in %
    assert "top-1/image: 2.0<br>top-1/class: 2.0<br>AP@50: 2.0" in row  # chance, in %
    assert "top-1/class: – (not reported)" in row
    assert "text.rnn_cell=gru" in row and "FixedRNN" in row  # cell type deviation
    assert "precomputed GoogLeNet features (feats/googlenet.mat)" in row
    assert "test set: 50 unseen classes" in row and "3000 steps x batch 40" in row
    assert "**P1** Reed et al. 2016, Table 1 (CUB), row 'CHAR CNN-RNN', DS-SJE" in text
    assert "cd /nonexistent/tfembed && python recipes/reed2016.py --data cub --data-dir CUB" in text


def test_word_encoder_and_attributes_pick_their_own_rows(tmp_path):
    word = reed(tmp_path, "word", **{"text.encoder": "word_cnn_rnn"})
    attr = reed(tmp_path, "attr", **{"text.encoder": "attributes"})
    lstm = reed(tmp_path, "lstm", **{"text.encoder": "char_lstm"})
    _, table = build(tmp_path)
    assert "top-1/image: 56.8" in table[str(word)] and "AP@50: 48.7" in table[str(word)]
    assert "top-1/image: 50.4" in table[str(attr)]  # DS-SJE; 50.9 is the DA-SJE row
    assert "AP@50: – (not reported)" in table[str(attr)]
    assert "– (no comparable number: the paper reports no number for this variant" \
        in table[str(lstm)]


def test_subset_of_classes_and_old_metric_definitions_are_not_compared(tmp_path):
    subset = reed(tmp_path, "reed35", chance=0.1)
    old = reed(tmp_path, "old", renamed=False)
    _, table = build(tmp_path)
    assert "– (no comparable number: 10 test classes here (chance 0.100), the paper tests 50" \
        in table[str(subset)]
    assert "54.0" not in table[str(subset)]
    row = table[str(old)]
    assert "top-1/image: 54.0" in row  # still comparable
    assert "AP@50: – (no comparable number: this run's retrieval_ap@K is truncated AP" in row


def test_zhang_gbu_rows_with_same_run_baselines(tmp_path):
    dem = zhang(tmp_path, "attributes", "dem", 0.628)
    eszsl = zhang(tmp_path, "attributes", "eszsl", 0.359)
    sent = zhang(tmp_path, "sentences", "dem", 0.761)
    _, table = build(tmp_path / "zhang")
    row = table[str(dem)]
    assert "T1: 51.7 [P" in row and "GZSL u/s/H: 19.6 / 57.9 / 29.2" in row
    assert "T1: 62.8<br>GZSL u/s/H: 30.0 / 60.0 / 40.0<br>N1 skew: -0.30" in row
    assert "T1: 2.0<br>GZSL u/s/H: 0.5 / 0.5 / 0.5<br>N1 skew: 0.24" in row
    assert "eszsl T1 35.9, H 40.0" in row  # the sibling baseline of the same run
    assert "sentence embeddings come from Reed's encoder" in table[str(sent)]
    assert "Reed's encoder" not in row  # a note about the sentences side only
    assert "3000 steps x batch 64 |" in row  # no optimizer recorded: no "(None, ...)"
    assert "EfficientNet-Lite0" in row and "ResNet-101" in row  # ours vs the paper's features
    assert "T1: 53.9" in table[str(eszsl)]  # Xian et al.'s ESZSL on GBU
    assert "– (no comparable number: the paper reports no number for this variant" \
        in table[str(sent)]
    assert "eszsl" not in table[str(sent)]  # siblings only within one semantic side


def test_image_sentence_subset_and_full_test_set(tmp_path):
    r = {"i2t_r@1": 16.0, "i2t_r@5": 43.2, "i2t_r@10": 54.4, "i2t_medr": 8.0,
         "t2i_r@1": 5.8, "t2i_r@5": 24.0, "t2i_r@10": 38.2, "t2i_medr": 17.0}
    cfg = {"data.source": "flickr8k", "data.root": "../shared/data/flickr8k",
           "data.only_with_images": True, "image.tower": "features", "model.kind": "alignment",
           "image.regions": "grid", "image.grid": 2,
           "data.features": "../shared/data/flickr8k/lite0_features.npz"}
    sub = write(tmp_path, "k8", "karpathy2015", "flickr8k", "flickr_subset_125", r,
                {k: 1.0 for k in r}, cfg)
    full = write(tmp_path, "k30", "karpathy2015", "karpathy/flickr30k", "flickr_1k", r,
                 {k: 0.1 for k in r}, {**cfg, "data.source": "karpathy_json"})
    _, table = build(tmp_path)
    row = table[str(sub)]
    assert "– (no comparable number: a 125-image test subset" in row
    assert "i2t R@1/5/10: 16.0 / 43.2 / 54.4" in row and "i2t R@1/5/10: 1.0 / 1.0 / 1.0" in row
    assert "region proxy: whole image only" in row and "data.only_with_images" in row
    assert "i2t R@1/5/10: 22.2 / 48.2 / 61.4" in table[str(full)]
    assert "med r i2t/t2i: 4.8 / 9.2" in table[str(full)]


def test_gordo_units_baselines_and_definition_change(tmp_path):
    settings = {"v_v": (0.70, 0.20), "vt_v": (0.69, 0.21), "vt_vt": (0.74, 0.22),
                "raw_features": (0.58, 0.16), "random": (0.10, 0.0), "tfidf_oracle": (1.0, 1.0)}
    m = {f"{k}_{s}": v for s, (n, p) in settings.items()
         for k, v in (("ndcg_auc", n), ("pcc_auc", p))}
    cfg = {"data.source": "visual_genome", "model.primary": "vt_v", "image.tower": "resnet"}
    new = write(tmp_path, "new", "gordo2017", "visual_genome", "tfidf_caption_relevance", m,
                {k: 0.1 for k in m}, cfg)
    old_m = {k: v for k, v in m.items() if "oracle" not in k}
    old = write(tmp_path, "old", "gordo2017", "visual_genome", "tfidf_caption_relevance", old_m,
                {k: 0.1 for k in old_m}, cfg)
    _, table = build(tmp_path)
    row = table[str(new)]
    assert "(V+T,V)* NDCG/PCC AUC: 68.8 / 21.1" in row  # paper, Table 2
    assert "(V+T,V)* NDCG/PCC AUC: 69.0 / 21.0" in row  # ours, fractions x 100
    assert "raw features, NDCG/PCC AUC: 58.0 / 16.0 (paper 58.4 / 16.1)" in row
    assert "random, NDCG/PCC AUC: 10.0 / 0.0 (paper 10.2 / -0.2)" in row
    assert "tf-idf oracle, NDCG/PCC AUC: 100.0 / 100.0 (paper 100.0 / 100.0)" in row
    assert "predate the paper's R axis" in table[str(old)] and "68.8" not in table[str(old)]


def test_unknown_recipe_and_synthetic_data_still_listed_with_dash(tmp_path):
    unknown = write(tmp_path, "mine", "my_recipe", "cub", "whatever", {"acc": 0.5},
                    {"acc": 0.25}, {"data.source": "cub"})
    synth = write(tmp_path, "syn", "wang2016", "synthetic_scenes", "flickr_1k",
                  {"i2t_r@1": 39.2}, {"i2t_r@1": 0.1}, {"data.source": "synthetic_scenes",
                                                         "text.features": "tfidf"})
    text, table = build(tmp_path)
    assert "– (no comparable number: no paper number is entered for recipe my_recipe)" \
        in table[str(unknown)]
    assert "acc: 50.0" in table[str(unknown)] and "acc: 25.0" in table[str(unknown)]
    assert "– (no comparable number: synthetic scenes" in table[str(synth)]
    assert "python recipes/my_recipe.py --data cub --workdir " in text  # reconstructed
    assert "None of these runs has a comparable paper number." in text


def test_main_writes_the_file_and_says_where(tmp_path, capsys):
    reed(tmp_path / "runs", "a")
    out = tmp_path / "R.md"
    assert reproduce.main([str(tmp_path / "runs"), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    assert out.read_text().startswith("# Reproduction")
    (tmp_path / "empty").mkdir()
    assert reproduce.main([str(tmp_path / "empty"), "--out", str(out)]) == 2


def test_paper_table_is_well_formed():
    for p in PAPERS:
        assert p.values and p.citation and p.checked and p.datasets, p
        assert all(isinstance(v, float) for v in p.values.values()), p
        assert all(d == d.lower() and not d.startswith("karpathy/") for d in p.datasets), p
    keys = [(p.recipe, d, p.protocol, tuple(sorted(p.variant.items())))
            for p in PAPERS for d in p.datasets]
    assert len(keys) == len(set(keys)), "two paper entries for the same run"


@pytest.mark.parametrize("dataset,n", [("CUB", 50), ("AWA2", 10)])
def test_gbu_entries_check_the_number_of_unseen_classes(tmp_path, dataset, n):
    path = zhang(tmp_path, "attributes", "dem", 0.5, dataset=f"xlsa17/{dataset}")
    _, table = build(tmp_path)
    expected = {"CUB": "51.7", "AWA2": "67.1"}[dataset]
    if n == 50:  # the fake run's chance is 1/50
        assert f"T1: {expected}" in table[str(path)]
    else:
        assert "the paper tests 10" in table[str(path)]


def test_recorded_command_from_the_repository_root_needs_no_cd(tmp_path):
    repo = tmp_path / "checkout"
    (repo / "recipes").mkdir(parents=True)
    (repo / "recipes" / "reed2016.py").write_text("")
    write(tmp_path, "runs/r", "reed2016", "cub", "reed_per_image", {"zsl_top1_per_image": 0.5},
          {"zsl_top1_per_image": 0.02}, REED_CFG, cwd=str(repo),
          command=[str(repo / "recipes" / "reed2016.py"), "--workdir", "runs/r"])
    text = reproduce.report([str(tmp_path / "runs")],
                            reproduce.find_results([str(tmp_path / "runs")]))
    assert "\npython recipes/reed2016.py --workdir runs/r\n" in text
    assert "cd " not in text.split("## Commands")[1]
