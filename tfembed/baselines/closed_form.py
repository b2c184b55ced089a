"""Closed-form zero-shot baselines on fixed image features.

Each model is fitted on (features [N, D], labels [N], class semantics [C, A]) of the seen
classes and scores images against any classes' semantics (higher = better). `space` names
the space in which nearest neighbours are searched (what the hubness metric looks at).
"""

import numpy as np

from tfembed import scorers


def ridge(inputs, targets, lam):
    """argmin_W ||inputs W - targets||^2 + lam ||W||^2 = (X^T X + lam I)^-1 X^T Y.

    With fewer rows than columns (N < D) the same W is X^T (X X^T + lam I)^-1 Y: an N x N solve
    instead of D x D (at lam = 0, the minimum-norm least-squares solution).
    """
    x = np.asarray(inputs, np.float64)
    y = np.asarray(targets, np.float64)
    n, d = x.shape
    if n < d:
        return x.T @ np.linalg.solve(x @ x.T + lam * np.eye(n), y)
    return np.linalg.solve(x.T @ x + lam * np.eye(d), x.T @ y)


def cosine(a, b):  # the library's scorers, not a second implementation
    return np.asarray(scorers.cosine(np.asarray(a, np.float64), np.asarray(b, np.float64)))


def _neg_sq_distance(a, b):
    return np.asarray(scorers.neg_sq_distance(np.asarray(a, np.float64),
                                              np.asarray(b, np.float64)))


class VisualToSemanticRegression:
    """Ridge regression image features -> class semantics, then nearest class by cosine
    (the conventional direction, the one DEM argues creates hubs)."""
    space, grid = "semantic", {"lam": [1e-2, 1e-1, 1.0, 10.0, 100.0]}

    def __init__(self, lam=1.0):
        self.lam = lam

    def fit(self, features, labels, semantics):
        self.w = ridge(features, semantics[labels], self.lam)
        return self

    def scores(self, features, semantics):
        return cosine(np.asarray(features, np.float64) @ self.w, np.asarray(semantics, np.float64))


class SemanticToVisualRegression:
    """Ridge regression class semantics -> image features (DEM's direction, linear: the
    paper's ablation), then nearest mapped prototype by Euclidean distance."""
    space, grid = "visual", {"lam": [1e-2, 1e-1, 1.0, 10.0, 100.0]}

    def __init__(self, lam=1.0):
        self.lam = lam

    def fit(self, features, labels, semantics):
        # Same solution as regressing every image on its class row, computed per class.
        counts = np.bincount(labels, minlength=len(semantics)).astype(np.float64)
        s = np.asarray(semantics, np.float64)
        sums = np.zeros((len(s), features.shape[1]))
        np.add.at(sums, labels, features)
        seen = counts > 0  # classes without images add nothing
        s, counts, sums = s[seen], counts[seen], sums[seen]
        if len(s) < s.shape[1]:  # (S^T C S + lam I)^-1 S^T = S^T (C S S^T + lam I)^-1: z x z
            self.w = s.T @ np.linalg.solve(counts[:, None] * (s @ s.T) + self.lam * np.eye(len(s)),
                                           sums)
        else:
            gram = (s * counts[:, None]).T @ s + self.lam * np.eye(s.shape[1])
            self.w = np.linalg.solve(gram, s.T @ sums)
        return self

    def prototypes(self, semantics):
        return np.asarray(semantics, np.float64) @ self.w

    def scores(self, features, semantics):
        return _neg_sq_distance(np.asarray(features, np.float64), self.prototypes(semantics))


class ESZSL:
    """Embarrassingly simple ZSL (Romera-Paredes & Torr 2015):
    V = (X^T X + gamma I)^-1 X^T Y S (S^T S + lam I)^-1 with Y in {-1, 1}; score x^T V s."""
    space, grid = "bilinear", {"lam": [1e-2, 1e-1, 1.0, 10.0], "gamma": [1e-2, 1e-1, 1.0, 10.0]}

    def __init__(self, lam=1.0, gamma=1.0):
        self.lam, self.gamma = lam, gamma

    def fit(self, features, labels, semantics):
        classes = np.unique(labels)
        x = np.asarray(features, np.float64)
        y = -np.ones((len(x), len(classes)))
        y[np.arange(len(x)), np.searchsorted(classes, labels)] = 1.0
        s = np.asarray(semantics, np.float64)[classes]  # [z, A]
        m = ridge(x, y, self.gamma)  # (X^T X + gamma I)^-1 X^T Y
        if len(s) < s.shape[1]:  # S (S^T S + lam I)^-1 = (S S^T + lam I)^-1 S: z x z
            self.v = m @ np.linalg.solve(s @ s.T + self.lam * np.eye(len(s)), s)
        else:
            self.v = np.linalg.solve(s.T @ s + self.lam * np.eye(s.shape[1]), (m @ s).T).T
        return self

    def scores(self, features, semantics):
        return np.asarray(features, np.float64) @ self.v @ np.asarray(semantics, np.float64).T
