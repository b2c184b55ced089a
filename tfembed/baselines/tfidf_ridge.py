"""Closed-form text -> image baseline for Reed's zero-shot protocol (issue 16.7): tf-idf of each
description, ridge-regressed onto the features of the image it describes; a class query is the
mean of its mapped descriptions, and images are ranked by cosine to it (Reed Sec. 5 protocol,
tfembed.evaluators.zero_shot). What a learned text encoder must beat on fixed features.

tf-idf: counts from the one text preprocessor (tfembed.text, the same tokens as the model),
tf = log(1 + count), idf = log((1 + N) / (1 + df)) + 1 (smoothed), rows l2-normalised.
The ridge weight is chosen on held-out seen classes (class-disjoint, like the test), then the
map is refitted on every training description.
"""

import numpy as np

from tfembed import progress
from tfembed.baselines.closed_form import cosine, ridge
from tfembed.text import TextPreprocessor

LAMBDAS = (0.1, 1.0, 10.0, 100.0)
DEFAULT_LAMBDA = 1.0  # with fewer than 4 seen classes


class TfidfRidge:
    def __init__(self, vocab_size=10000, lam=None):
        self.vocab_size, self.lam = vocab_size, lam

    def _counts(self, texts):
        return np.asarray(self.pre(np.asarray(texts, object)))[:, 1:]  # column 0: unknown

    def _weigh(self, counts):
        x = np.log1p(counts) * self.idf
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

    def _tfidf(self, texts):
        return self._weigh(self._counts(texts))

    def _fit_tfidf(self, texts):
        """Fit the vocabulary and idf on `texts`; returns their tf-idf rows (one count pass)."""
        self.pre = TextPreprocessor(output="counts", vocab_size=self.vocab_size).adapt(texts)
        counts = self._counts(texts)
        self.idf = np.log((1.0 + len(texts)) / (1.0 + (counts > 0).sum(0))) + 1.0
        return self._weigh(counts)

    def _fit(self, texts, targets, lam):
        self.w = ridge(self._fit_tfidf(texts), targets, lam)
        return self

    def fit(self, texts, text_labels, targets, seed=0):
        """texts [T] with their class labels [T] and the features of their images [T, D]."""
        targets = np.asarray(targets, np.float64)
        self.mean = targets.mean(0)  # centred targets: cosine then compares directions
        if self.lam is None:
            self.lam = self.select(texts, np.asarray(text_labels), targets - self.mean, seed)
        return self._fit(texts, targets - self.mean, self.lam)

    def select(self, texts, labels, targets, seed):
        """The lambda with the best per-image top-1 on 20% of the seen classes held out."""
        classes = np.unique(labels)
        if len(classes) < 4:  # nothing to hold out and still train on
            return DEFAULT_LAMBDA
        held = np.random.default_rng(seed).permutation(classes)[:max(2, len(classes) // 5)]
        out = np.isin(labels, held)
        texts = np.asarray(texts, object)
        fitted = self._fit_tfidf(texts[~out])  # one tf-idf for every lambda
        held_out = self._tfidf(texts[out])
        best = None
        with progress.stage("grid search tfidf_ridge lambda", total=len(LAMBDAS),
                            unit="points") as bar:
            for lam in LAMBDAS:
                mapped = held_out @ ridge(fitted, targets[~out], lam)
                protos = np.stack([mapped[labels[out] == c].mean(0) for c in held])
                # Each held-out description's own image target stands in for the image.
                pred = held[np.argmax(cosine(targets[out], protos), axis=1)]
                acc = float(np.mean(pred == labels[out]))
                best = max(best or (acc, lam), (acc, lam))
                bar.update()
        return best[1]

    def embed_texts(self, texts):
        return self._tfidf(texts) @ self.w

    def embed_images(self, features):
        return np.asarray(features, np.float64) - self.mean

    @staticmethod
    def score(images, texts):
        return cosine(images, texts)
