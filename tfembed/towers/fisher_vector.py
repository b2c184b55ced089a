"""Fisher-vector sentence features: a sentence is the set of its words' vectors, encoded as the
improved Fisher vector (FV) of a diagonal Gaussian mixture fitted on the training words.

Wang, Li & Lazebnik (CVPR 2016) feed their two-branch network the sentence representation of
Klein, Lev, Sadeh & Wolf (CVPR 2015, "Associating neural word embeddings with deep image
representations using Fisher vectors"): FVs of 300-d word2vec vectors under a *hybrid
Gaussian-Laplacian* mixture (HGLMM, 30 components, 2·30·300 = 18,000 dims), reduced to 6,000
dims by PCA. This module implements the *Gaussian* mixture FV (Klein et al.'s "GMM" FV, the
baseline their HGLMM improves on), not HGLMM: see `recipes/wang2016.py` for why.

With descriptors x_1..x_T (the sentence's word vectors, words without a vector dropped), a
diagonal GMM with weights w_k, means mu_k and variances sigma_k^2 (all [D]), posteriors

    gamma_t(k) = w_k N(x_t; mu_k, sigma_k^2) / sum_j w_j N(x_t; mu_j, sigma_j^2)

the FV is the gradient of the average log-likelihood w.r.t. the means and standard deviations,
normalised by the diagonal approximation of the Fisher information (Perronnin, Sanchez & Mensink,
ECCV 2010, Sec. 2; Sanchez, Perronnin, Mensink & Verbeek, IJCV 2013, Algorithm 1):

    G_mu_k    = 1 / (T sqrt(w_k))   sum_t gamma_t(k) (x_t - mu_k) / sigma_k
    G_sigma_k = 1 / (T sqrt(2 w_k)) sum_t gamma_t(k) [(x_t - mu_k)^2 / sigma_k^2 - 1]

FV = [G_mu_1 .. G_mu_K, G_sigma_1 .. G_sigma_K] (2·K·D dims), then the "improved" FV's power
normalisation f(z) = sign(z) |z|^0.5 and L2 normalisation (Perronnin et al. 2010, Sec. 3.1-3.2).
A sentence with no known word has the zero FV. Optional PCA (fitted on training sentences'
FVs) as Wang et al. do.

`FisherVector` runs the chain in the TF graph with core ops (word ids -> word vectors ->
posteriors -> FV statistics -> normalisation -> PCA matmul) over the ids of the recipe's
`tfembed.text.TextPreprocessor`, its GMM, vectors and PCA held as non-trainable weights; it is
the first layer of the text tower, so the tokens that fit the GMM and the tokens served come
from the same preprocessor op, an exported `embed_text` takes raw strings and stock TF Serving
can load it. `fisher_vector_reference` is the slow per-word NumPy loop written
from the formulas above, which the tests hold the graph to.
"""

import collections

import keras
import numpy as np
import tensorflow as tf

from tfembed.errors import ConfigError

GMM = collections.namedtuple("GMM", "weights means variances log_likelihood")

LOG_2PI = float(np.log(2 * np.pi))


# ----------------------------------------------------------------------------- GMM (NumPy EM)

def _log_joint(x, weights, means, variances):
    """[N, K] log w_k + log N(x_n; mu_k, diag sigma_k^2), float64."""
    inv = 1.0 / variances
    # sum_d (x - mu)^2 / s^2 = x^2 . inv - 2 x . (mu inv) + mu^2 . inv  (exact enough in float64)
    quad = (x ** 2) @ inv.T - 2.0 * x @ (means * inv).T + np.sum(means ** 2 * inv, axis=1)
    log_det = np.sum(np.log(variances), axis=1)
    return np.log(weights) - 0.5 * (np.maximum(quad, 0.0) + log_det + x.shape[1] * LOG_2PI)


def _logsumexp(a, axis=1):
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.sum(np.exp(a - m), axis=axis))


def gmm_log_likelihood(x, gmm, counts=None):
    """Mean log-likelihood per point (weighted by `counts` when given)."""
    x = np.asarray(x, np.float64)
    ll = _logsumexp(_log_joint(x, gmm.weights, gmm.means, gmm.variances))
    c = np.ones(len(x)) if counts is None else np.asarray(counts, np.float64)
    return float(np.sum(c * ll) / np.sum(c))


def _kmeans_pp(x, c, k, rng):
    """k-means++ seeding (points drawn in proportion to weight x squared distance)."""
    centers = [x[rng.choice(len(x), p=c / c.sum())]]
    d2 = np.sum((x - centers[0]) ** 2, axis=1)
    for _ in range(1, k):
        p = c * d2
        idx = rng.choice(len(x), p=p / p.sum()) if p.sum() > 0 else rng.integers(len(x))
        centers.append(x[idx])
        d2 = np.minimum(d2, np.sum((x - x[idx]) ** 2, axis=1))
    return np.array(centers)


def fit_gmm(x, k, counts=None, iterations=100, tol=1e-6, seed=0, variance_floor=1e-3):
    """Diagonal GMM by EM on points `x` [N, D], each counted `counts[n]` times (word types
    weighted by their token counts = EM on every token). k-means++ seeding; variances are
    floored at `variance_floor` times the data's per-dimension variance, which keeps EM
    monotone (the M-step is the constrained maximum) and a one-word component finite.
    Returns GMM(weights [K], means [K, D], variances [K, D], log_likelihood: the mean
    log-likelihood after each iteration)."""
    x = np.asarray(x, np.float64)
    n, d = x.shape
    c = np.ones(n) if counts is None else np.asarray(counts, np.float64)
    if len(c) != n or np.any(c < 0) or c.sum() <= 0:
        raise ValueError("counts must be non-negative, one per point, not all zero")
    keep = c > 0
    x, c = x[keep], c[keep]
    if k < 1 or k > len(x):
        raise ConfigError(f"text.fv_components={k}: needs 1 <= K <= {len(x)} (distinct words "
                          f"with a vector)")
    rng = np.random.default_rng(seed)
    total = c.sum()
    mean = c @ x / total
    floor = variance_floor * np.maximum(c @ (x - mean) ** 2 / total, 1e-12)
    means = _kmeans_pp(x, c, k, rng)
    variances = np.tile(np.maximum(c @ (x - mean) ** 2 / total, floor), (k, 1))
    weights = np.full(k, 1.0 / k)
    history = []
    for _ in range(iterations):
        log_joint = _log_joint(x, weights, means, variances)
        ll = _logsumexp(log_joint)
        history.append(float(c @ ll / total))
        resp = np.exp(log_joint - ll[:, None]) * c[:, None]  # [N, K], count-weighted
        nk = resp.sum(axis=0)
        empty = nk < 1e-10 * total
        if np.any(empty):  # re-seed a dead component on the worst-explained point
            for j in np.flatnonzero(empty):
                resp[:, j] = 0.0
                worst = int(np.argmin(ll))
                resp[worst, j], ll[worst] = c[worst], np.inf
            nk = resp.sum(axis=0)
        weights = nk / nk.sum()
        means = (resp.T @ x) / nk[:, None]
        variances = np.maximum((resp.T @ x ** 2) / nk[:, None] - means ** 2, 0.0)
        variances = np.maximum(variances, floor)
        if len(history) > 1 and abs(history[-1] - history[-2]) <= tol * abs(history[-2]):
            break
    final = gmm_log_likelihood(x, GMM(weights, means, variances, None), c)
    history.append(final)
    return GMM(weights, means, variances, np.array(history))


# ----------------------------------------------------------------------------- reference FV

def power_l2_normalize(fv, alpha=0.5):
    """Improved-FV normalisation (Perronnin et al. 2010, Sec. 3.2 then 3.1):
    sign(z)|z|^alpha, then unit L2 norm (the zero vector stays zero)."""
    fv = np.sign(fv) * np.abs(fv) ** alpha
    norm = np.linalg.norm(fv, axis=-1, keepdims=True)
    return fv / np.maximum(norm, 1e-12)


def fisher_vector_reference(words, gmm, normalize=True):
    """Slow FV of one sentence, a per-word / per-component loop straight from the formulas in
    the module docstring. words: [T, D] (T may be 0). Returns [2·K·D] float64."""
    w, mu, var = (np.asarray(a, np.float64) for a in (gmm.weights, gmm.means, gmm.variances))
    k, d = mu.shape
    g_mu, g_sigma = np.zeros((k, d)), np.zeros((k, d))
    words = np.asarray(words, np.float64).reshape(-1, d)
    for x in words:
        log_p = np.array([np.log(w[j]) - 0.5 * np.sum((x - mu[j]) ** 2 / var[j]
                                                      + np.log(var[j]) + LOG_2PI)
                          for j in range(k)])
        gamma = np.exp(log_p - log_p.max())
        gamma /= gamma.sum()
        for j in range(k):
            z = (x - mu[j]) / np.sqrt(var[j])
            g_mu[j] += gamma[j] * z
            g_sigma[j] += gamma[j] * (z ** 2 - 1.0)
    t = max(len(words), 1)
    g_mu /= t * np.sqrt(w)[:, None]
    g_sigma /= t * np.sqrt(2.0 * w)[:, None]
    fv = np.concatenate([g_mu.ravel(), g_sigma.ravel()])
    return power_l2_normalize(fv) if normalize else fv


# ----------------------------------------------------------------------------- PCA

def fit_pca(features, dim, max_samples=10000, seed=0):
    """PCA of `features` [N, F] (rows subsampled to `max_samples`, seeded): (mean [F],
    components [F, P]) with P = min(dim, F, numerical rank of the centred rows); no whitening.
    Eigenvectors of the smaller of the Gram matrix [N, N] and the covariance [F, F], in
    float64 (an SVD of an 18,000-wide matrix is many times slower here)."""
    x = np.asarray(features, np.float32)
    if len(x) > max_samples:
        x = x[np.sort(np.random.default_rng(seed).choice(len(x), max_samples, replace=False))]
    mean = x.mean(axis=0, dtype=np.float64)
    xc = x.astype(np.float64) - mean
    gram = len(xc) <= xc.shape[1]
    evals, evecs = np.linalg.eigh(xc @ xc.T if gram else xc.T @ xc)
    evals, evecs = evals[::-1], evecs[:, ::-1]  # descending
    top = evals[0] if len(evals) else 0.0
    rank = int(np.sum(evals > top * 1e-10)) if top > 0 else 0
    p = max(min(int(dim), rank), 1)
    if gram:  # right singular vectors from the left ones: v = X^T u / s
        comps = xc.T @ evecs[:, :p] / np.sqrt(np.maximum(evals[:p], 1e-300))
    else:
        comps = evecs[:, :p]
    # a fixed sign per component (largest |entry| positive): the same features whatever sign
    # LAPACK returns, so a resumed run's rebuilt PCA matches the checkpointed first layer
    big = comps[np.argmax(np.abs(comps), axis=0), np.arange(p)]
    comps = comps * np.where(big < 0, -1.0, 1.0)
    return mean.astype(np.float32), np.ascontiguousarray(comps, dtype=np.float32)


# ----------------------------------------------------------------------------- in-graph encoder

@keras.saving.register_keras_serializable(package="tfembed")
class FisherVector(keras.layers.Layer):
    """word ids [N, L] (a `tfembed.text.TextPreprocessor`'s output: 0 = padding, 1 = out of
    vocabulary) -> sentence features [N, P]: word vectors -> GMM posteriors -> FV statistics ->
    power + L2 normalisation -> optional PCA. Core TF ops only; every parameter is a
    non-trainable weight (saved with the model's weights; the config holds only the sizes).
    `FisherVector.fitted(vectors, gmm, pca)` builds one from fitted parameters;
    `fisher_vectors(ids)` gives the FV before PCA."""

    def __init__(self, vocab_size, word_dim, num_components, pca_dim=None, **kwargs):
        kwargs["trainable"] = False
        super().__init__(**kwargs)
        self.vocab_size, self.word_dim = int(vocab_size), int(word_dim)
        self.num_components = int(num_components)
        self.fv_dim = 2 * self.num_components * self.word_dim
        self.pca_dim = None if pca_dim is None else int(pca_dim)
        self.has_pca = self.pca_dim is not None
        self.output_dim = self.pca_dim if self.has_pca else self.fv_dim
        k, d, v = self.num_components, self.word_dim, self.vocab_size
        shapes = {"word_vectors": (v, d), "valid": (v,), "means": (k, d), "inv_std": (k, d),
                  "log_norm": (k,), "mu_scale": (k,), "sigma_scale": (k,)}
        if self.has_pca:
            shapes.update(pca_mean=(self.fv_dim,), pca_components=(self.fv_dim, self.pca_dim))
        for name, shape in shapes.items():
            setattr(self, name, self.add_weight(name=name, shape=shape, dtype="float32",
                                                initializer="zeros", trainable=False))
        self.built = True

    @classmethod
    def fitted(cls, word_vectors, gmm, pca=None, **kwargs):
        """The layer with a vocabulary's vectors [V, D] (rows 0, 1 and all-zero rows: no
        vector), a fitted GMM and optionally PCA (mean [F], components [F, P])."""
        vectors = np.asarray(word_vectors, np.float32)
        valid = np.any(vectors != 0, axis=1)
        valid[:2] = False  # padding and [UNK] are never words
        k, d = np.shape(gmm.means)
        var = np.asarray(gmm.variances, np.float64)
        w = np.asarray(gmm.weights, np.float64)
        layer = cls(len(vectors), d, k, None if pca is None else np.shape(pca[1])[1], **kwargs)
        values = {
            "word_vectors": vectors, "valid": valid.astype(np.float32),
            "means": np.asarray(gmm.means, np.float32), "inv_std": 1.0 / np.sqrt(var),
            "log_norm": np.log(w) - 0.5 * (np.sum(np.log(var), axis=1) + d * LOG_2PI),
            "mu_scale": 1.0 / np.sqrt(w), "sigma_scale": 1.0 / np.sqrt(2.0 * w)}
        if pca is not None:
            values.update(pca_mean=pca[0], pca_components=pca[1])
        for name, value in values.items():
            getattr(layer, name).assign(np.asarray(value, np.float32))
        return layer

    def fisher_vectors(self, ids):
        """ids [N, L] -> normalised FVs [N, 2·K·D]."""
        ids = tf.cast(ids, tf.int64)
        n = tf.shape(ids)[0]
        valid = tf.gather(self.valid, ids) > 0.5                            # [N, L]
        token_ids = tf.boolean_mask(ids, valid)                              # [M]
        sentence = tf.cast(tf.where(valid)[:, 0], tf.int32)                  # [M]
        x = tf.gather(self.word_vectors, token_ids)                          # [M, D]
        z = (x[:, None, :] - self.means[None]) * self.inv_std[None]          # [M, K, D]
        log_p = self.log_norm[None] - 0.5 * tf.reduce_sum(tf.square(z), -1)  # [M, K]
        gamma = tf.nn.softmax(log_p, axis=-1)[:, :, None]                    # [M, K, 1]
        g_mu = tf.math.unsorted_segment_sum(gamma * z, sentence, n)          # [N, K, D]
        g_sigma = tf.math.unsorted_segment_sum(gamma * (tf.square(z) - 1.0), sentence, n)
        count = tf.math.unsorted_segment_sum(tf.ones_like(sentence, tf.float32), sentence, n)
        inv_t = 1.0 / tf.maximum(count, 1.0)[:, None, None]
        g_mu = g_mu * inv_t * self.mu_scale[None, :, None]
        g_sigma = g_sigma * inv_t * self.sigma_scale[None, :, None]
        kd = self.num_components * self.word_dim
        fv = tf.concat([tf.reshape(g_mu, [n, kd]), tf.reshape(g_sigma, [n, kd])], axis=1)
        fv = tf.sign(fv) * tf.sqrt(tf.abs(fv))                               # power, alpha 0.5
        return tf.math.l2_normalize(fv, axis=1, epsilon=1e-24)               # L2 (0 stays 0)

    def project(self, fv):
        if not self.has_pca:
            return fv
        return tf.matmul(fv - self.pca_mean[None], self.pca_components)

    def call(self, ids):
        return self.project(self.fisher_vectors(ids))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.output_dim)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size,
                "word_dim": self.word_dim, "num_components": self.num_components,
                "pca_dim": self.pca_dim}


def _in_batches(fn, inputs, batch):
    out = [np.asarray(fn(inputs[i:i + batch])) for i in range(0, len(inputs), batch)]
    return np.concatenate(out) if out else np.zeros((0,), np.float32)


def build_fisher_vector(preprocessor, word_vectors, train_texts, components=30, pca_dim=None,
                        seed=0, batch=256, log=print):
    """Fit everything on the training captions only and return the `FisherVector` layer over
    `preprocessor`'s ids: the GMM by EM on the word vectors of the training tokens (each
    vocabulary word weighted by its count among the training captions as `preprocessor`
    tokenises them: the op the exported model runs), then, when `pca_dim` is set and smaller
    than 2·K·D, PCA on the training captions' FVs computed by the same graph."""
    vectors = np.asarray(word_vectors, np.float32)
    ids = _in_batches(lambda s: preprocessor(tf.constant(s)), list(train_texts), 4096).astype(np.int64)
    counts = np.bincount(ids.ravel(), minlength=len(vectors)).astype(np.float64)
    counts[:2] = 0.0
    counts[~np.any(vectors != 0, axis=1)] = 0.0
    if counts.sum() == 0:
        raise ConfigError("text.features=fisher_vector: no training word has a word vector")
    gmm = fit_gmm(vectors, components, counts=counts, seed=seed)
    log(f"fisher_vector: GMM K={components} on {int((counts > 0).sum())} words "
        f"({int(counts.sum())} tokens), D={vectors.shape[1]}, {len(gmm.log_likelihood) - 1} EM "
        f"iterations, mean log-likelihood {gmm.log_likelihood[-1]:.2f}")
    layer = FisherVector.fitted(vectors, gmm, name="fisher_vector")
    if pca_dim and int(pca_dim) < layer.fv_dim:
        fvs = _in_batches(layer.fisher_vectors, ids, batch)
        mean, comps = fit_pca(fvs, int(pca_dim), seed=seed)
        log(f"fisher_vector: PCA {layer.fv_dim} -> {comps.shape[1]} dims on {len(fvs)} training "
            f"captions" + (f" (text.fv_pca_dim={pca_dim} exceeds the rank of the training "
                           f"FVs)" if comps.shape[1] < int(pca_dim) else ""))
        layer = FisherVector.fitted(vectors, gmm, pca=(mean, comps), name="fisher_vector")
    return layer
