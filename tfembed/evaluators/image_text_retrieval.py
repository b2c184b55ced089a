"""Image-text retrieval evaluator (Karpathy & Fei-Fei 2015, Wang et al. 2016, VSE++):
R@1/5/10 image->text (i2t) and text->image (t2i), median and mean rank, rsum, with the exact
values of a uniformly random ranking as chance.

Protocols: `flickr_1k` (all test images against all their captions: Flickr8k/30k 1,000
images), `coco_1k_5fold` (the mean over 5 folds of 1,000 images, as VSE++ reports COCO 1K),
`coco_5k` (all 5,000 images at once). A test set of another size is named honestly
(`flickr_subset_N`): R@K depends on the gallery size, so a subset is not the protocol.

A pure function of a score matrix (or embeddings + a score function, scored one block of
images at a time, so sequence scorers such as Karpathy's alignment never hold
[N, M, R, L] for the whole test set) and the image of each text.
"""

import numpy as np

from tfembed import metrics, progress

SIZES = {"flickr_1k": 1000, "coco_1k_5fold": 5000, "coco_5k": 5000}
FOLD = 1000


def protocol_name(wanted, n_images):
    """`wanted` when the test set has its size, else `<base>_subset_<n>` (`_val` kept)."""
    base, val = (wanted[:-4], "_val") if wanted.endswith("_val") else (wanted, "")  # tuning
    return wanted if SIZES.get(base) == n_images else f"{base.split('_')[0]}_subset_{n_images}{val}"


def score_blocks(image_embeddings, text_embeddings, score_fn, chunk=100):
    """sim(image_indices, text_indices) -> [n_i, n_t], scoring `chunk` images at a time."""
    def sim(images, texts):
        t = text_embeddings[texts]
        bar = progress.current()  # the evaluation's stage counts the images scored
        out = []
        for i in range(0, len(images), chunk):
            out.append(np.asarray(score_fn(image_embeddings[images[i:i + chunk]], t)))
            if bar is not None:
                bar.update(len(out[-1]))
        return np.concatenate(out)
    return sim


def evaluate(text_to_image, scores=None, image_embeddings=None, text_embeddings=None,
             score_fn=None, protocol="flickr_1k", chunk=100):
    """(metrics, chance) for `scores` [N_img, N_txt] (or embeddings + `score_fn`), where
    text t describes image `text_to_image[t]` (0..N_img-1). Keys: i2t_r@{1,5,10},
    t2i_r@{1,5,10}, i2t_medr, t2i_medr, i2t_meanr, t2i_meanr, rsum; chance has every key."""
    n = len(image_embeddings) if scores is None else np.shape(scores)[0]
    with progress.stage(f"evaluate retrieval {protocol_name(protocol, n)}", unit="images "
                        "scored"):
        return _evaluate(text_to_image, scores, image_embeddings, text_embeddings, score_fn,
                         protocol, chunk)


def _evaluate(text_to_image, scores, image_embeddings, text_embeddings, score_fn, protocol,
              chunk):
    t2i = np.asarray(text_to_image, np.int64)
    if scores is None:
        n_img = len(image_embeddings)
        sim = score_blocks(image_embeddings, text_embeddings, score_fn, chunk)
    else:
        n_img = np.shape(scores)[0]
        sim = lambda i, t: np.asarray(scores)[i][:, t]  # noqa: E731
    if protocol == "coco_1k_5fold":
        out = metrics.coco_1k_5fold(sim, t2i)
        fold = t2i[t2i < FOLD]
        n_img, t2i = FOLD, fold  # chance of one fold (every fold has 1,000 images)
    else:
        out = metrics.image_text_recall(sim(np.arange(n_img), np.arange(len(t2i))), t2i)
    chance = metrics.recall_chance(n_img, len(t2i), t2i)
    chance.update(median_rank_chance(n_img, len(t2i), np.bincount(t2i, minlength=n_img)))
    return out, {k: chance[k] for k in out if k in chance}


def median_rank_chance(n_img, n_txt, captions_per_image):
    """floor(median) rank of a random ranking: t2i uniform on 1..n_img; i2t the best of an
    image's m captions among n_txt, P(best > r) = C(n_txt - r, m) / C(n_txt, m)."""
    m = int(np.median(captions_per_image[captions_per_image > 0]))
    r = np.arange(1, n_txt + 1)
    above = np.ones(n_txt)
    for j in range(m):
        above *= np.clip((n_txt - r - j) / (n_txt - j), 0, 1)
    return {"t2i_medr": float(np.floor((n_img + 1) / 2)),
            "i2t_medr": float(r[np.argmax(1 - above >= 0.5)])}
