"""Closed-form baselines: ridge against lstsq, exact recovery on noiseless data, ESZSL."""

import numpy as np

from tfembed.baselines import ESZSL, SemanticToVisualRegression, VisualToSemanticRegression, ridge
from tfembed.experiments.closed_form_zsl import embed, score_fn, select


def test_ridge_matches_normal_equations_and_lstsq_at_zero():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(30, 4)), rng.normal(size=(30, 2))
    np.testing.assert_allclose(ridge(x, y, 0.0), np.linalg.lstsq(x, y, rcond=None)[0], atol=1e-10)
    w = ridge(x, y, 2.0)
    np.testing.assert_allclose(x.T @ (x @ w - y) + 2.0 * w, 0.0, atol=1e-10)  # gradient = 0


def _world(seed=0, classes=8, attrs=6, dim=10, per=20, noise=0.05):
    rng = np.random.default_rng(seed)
    sem = rng.normal(size=(classes, attrs))
    a = rng.normal(size=(attrs, dim))
    labels = np.repeat(np.arange(classes), per)
    feats = sem[labels] @ a + noise * rng.normal(size=(len(labels), dim))
    return feats, labels, sem, a


def test_semantic_to_visual_per_class_solution_equals_per_image_ridge():
    feats, labels, sem, _ = _world()
    model = SemanticToVisualRegression(lam=0.5).fit(feats, labels, sem)
    np.testing.assert_allclose(model.w, ridge(sem[labels], feats, 0.5), atol=1e-8)


def test_all_baselines_recognise_unseen_classes_of_a_linear_world():
    feats, labels, sem, _ = _world(classes=12, attrs=8)
    seen = labels < 8
    unseen_rows = np.flatnonzero(~seen)
    # ESZSL fits +-1 class indicators, not the world's linear map: a looser bar (chance 0.25).
    for model, bar in ((VisualToSemanticRegression(0.01), 0.9),
                       (SemanticToVisualRegression(0.01), 0.9), (ESZSL(0.01, 0.01), 0.6)):
        model.fit(feats[seen], labels[seen], sem)
        scores = model.scores(feats[unseen_rows], sem[8:])
        acc = np.mean(np.argmax(scores, 1) + 8 == labels[unseen_rows])
        assert acc > bar, type(model).__name__


def test_scoring_through_tfembed_scorers_is_each_baselines_own_rule():
    # The GBU evaluation scores embeddings with tfembed.scorers: cosine after x W (visual ->
    # semantic), -||x - s W||^2 (semantic -> visual), x^T V s (ESZSL), written out here.
    feats, labels, sem, _ = _world(classes=6)
    rows, classes = np.array([3, 50, 100]), np.array([5, 1])
    unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)  # noqa: E731
    v2s = VisualToSemanticRegression(0.1).fit(feats, labels, sem)
    s2v = SemanticToVisualRegression(0.1).fit(feats, labels, sem)
    es = ESZSL(0.1, 0.1).fit(feats, labels, sem)
    x, s = feats[rows], sem[classes]
    want = {v2s: unit(x @ v2s.w) @ unit(s).T,
            s2v: -((x[:, None, :] - (s @ s2v.w)[None]) ** 2).sum(-1),
            es: x @ es.v @ s.T}
    for model, expected in want.items():
        np.testing.assert_allclose(score_fn(model, feats, sem)(rows, classes), expected,
                                   rtol=1e-8, atol=1e-8)
        np.testing.assert_allclose(model.scores(x, s), expected, rtol=1e-8, atol=1e-8)
    assert embed(s2v, x, s)[2].__name__ == "neg_sq_distance"


def test_eszsl_matches_its_formula():
    feats, labels, sem, _ = _world(classes=5)
    model = ESZSL(lam=0.3, gamma=0.7).fit(feats, labels, sem)
    y = -np.ones((len(labels), 5))
    y[np.arange(len(labels)), labels] = 1
    x = feats
    v = np.linalg.inv(x.T @ x + 0.7 * np.eye(10)) @ x.T @ y @ sem @ np.linalg.inv(
        sem.T @ sem + 0.3 * np.eye(6))
    np.testing.assert_allclose(model.v, v, atol=1e-8)


def test_selection_uses_only_validation_rows():
    feats, labels, sem, _ = _world(classes=10)
    train, val = np.flatnonzero(labels < 6), np.flatnonzero((labels >= 6) & (labels < 8))
    params, acc, trials = select(ESZSL, feats, labels, sem, train, val)
    assert len(trials) == 16 and acc == max(t["val_zsl_top1_per_class"] for t in trials)
    assert set(params) == {"lam", "gamma"}


def test_ridge_with_fewer_rows_than_columns_is_the_same_solution():
    # N < D takes the N x N (dual) solve; it must equal the D x D normal equations, and at
    # lam = 0 the minimum-norm least-squares solution.
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(7, 30)), rng.normal(size=(7, 4))
    np.testing.assert_allclose(ridge(x, y, 0.5),
                               np.linalg.solve(x.T @ x + 0.5 * np.eye(30), x.T @ y), atol=1e-10)
    np.testing.assert_allclose(ridge(x, y, 0.0), np.linalg.lstsq(x, y, rcond=None)[0], atol=1e-10)
    labels, sem = np.arange(7) % 3, rng.normal(size=(3, 5))
    model = ESZSL(lam=0.3, gamma=0.7).fit(x, labels, sem)
    y = -np.ones((7, 3))
    y[np.arange(7), labels] = 1
    v = np.linalg.inv(x.T @ x + 0.7 * np.eye(30)) @ x.T @ y @ sem @ np.linalg.inv(
        sem.T @ sem + 0.3 * np.eye(5))
    np.testing.assert_allclose(model.v, v, atol=1e-8)


def test_semantic_sides_wider_than_the_classes_give_the_same_models():
    # More semantic dimensions than seen classes (CUB sentences: 1024-d, <= 150 classes) take
    # the class-by-class solves; they must equal the A x A formulas.
    rng = np.random.default_rng(4)
    x, labels, sem = rng.normal(size=(40, 6)), np.arange(40) % 4, rng.normal(size=(6, 9))
    model = SemanticToVisualRegression(lam=0.5).fit(x, labels, sem)
    np.testing.assert_allclose(model.w, ridge(sem[labels], x, 0.5), atol=1e-10)
    model = ESZSL(lam=0.3, gamma=0.7).fit(x, labels, sem)
    y = -np.ones((40, 4))
    y[np.arange(40), labels] = 1
    s = sem[:4]
    v = np.linalg.inv(x.T @ x + 0.7 * np.eye(6)) @ x.T @ y @ s @ np.linalg.inv(
        s.T @ s + 0.3 * np.eye(9))
    np.testing.assert_allclose(model.v, v, atol=1e-10)
