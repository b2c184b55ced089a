"""`evals` in a recipe's config: the run computes exactly the listed evaluators, refuses one it
cannot compute and one without its headline metrics, before any work."""

import numpy as np
import pytest

from tfembed import evaluators
from tfembed.config import check_choices
from tfembed.errors import ConfigError
from tfembed.evaluators import semantic_ranking


def test_selected_keeps_the_order_and_checks_the_list():
    cfg = {"evals": ["semantic_ranking", "user_study"]}
    assert evaluators.selected(cfg, "semantic_ranking", ("user_study",)) == cfg["evals"]
    assert evaluators.selected({"evals": ["gbu"]}, "gbu") == ["gbu"]
    with pytest.raises(ConfigError, match="needs 'gbu'.*add 'gbu'"):
        evaluators.selected({"evals": []}, "gbu")
    with pytest.raises(ConfigError, match="'phrase_alignment' is not one of them"):
        evaluators.selected({"evals": ["image_text_retrieval", "phrase_alignment"]},
                            "image_text_retrieval")  # a two_branch model has no regions
    with pytest.raises(ConfigError, match="unknown choice 'bleu'"):
        check_choices({"evals": ["zero_shot", "bleu"]})


def test_user_study_is_computed_only_when_listed():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 4))
    emb = {"random": rng.normal(size=(12, 4)), "raw_features": x, "model": x + 0.1}
    rel = x @ x.T
    with_study, _ = semantic_ranking.score_embeddings(emb, rel, 0, {"study_triplets": 50,
                                                                    "study_neighbours": 5})
    without, _ = semantic_ranking.score_embeddings(emb, rel, 0, study=False)
    assert "user_study_agreement" in with_study["model"]
    assert "user_study_agreement" not in without["model"]
    assert without["model"]["ndcg_auc"] == with_study["model"]["ndcg_auc"]


def test_a_run_refuses_a_bad_list_before_loading_data(tmp_path):
    from tfembed.experiments import zero_shot_joint

    # data.source names nothing: reaching the data loader would raise another error.
    cfg = {"evals": ["gbu"], "data": {"source": "no_such_source"}}
    with pytest.raises(ConfigError, match="this run computes zero_shot"):
        zero_shot_joint.run(cfg, str(tmp_path), None)
