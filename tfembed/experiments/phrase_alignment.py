"""MRF phrase alignment in the Karpathy recipe (Karpathy & Fei-Fei 2015, Sec. 3.1.4, Eq. 10-12):
choosing beta, decoding every test sentence against its own image's regions, and the
phrase-to-box accuracy on synthetic scenes (our measurement; the paper shows its MRF
alignments only as pictures, Fig. 5).

beta (config `decode.mrf_beta`, `decode.mrf_beta_scale`):
- "absolute": beta = decode.mrf_beta in the units of v_t^T s_j, literally Eq. 12;
- "median_gap" (default): beta = decode.mrf_beta x the median, over the words of up to 500
  validation images' captions, of the gap between a word's best and second-best region score.
  The paper gives no value, and v^T s has no fixed scale (it depends on the training run), so
  an absolute number cannot carry from one run or data set to the next. Tied to the run's own
  scores, beta = 1 x median gap lets a word whose preference is weaker than the typical word's
  (articles, prepositions) join its neighbours' segment, while words with a strong preference
  (object names, colours) keep their region. No alignment labels are used: the paper had none.
The resolved beta is written into results.json's notes and phrase_alignments.json.
"""

import re

import numpy as np

from tfembed.data.sources import _scene_render
from tfembed.errors import ConfigError
from tfembed.layers.mrf_alignment import align_phrases, segments
from tfembed.metrics.phrase_alignment import box_accuracy

DEFAULTS = {"mrf_beta": 1.0, "mrf_beta_scale": "median_gap"}
BETA_SCALES = ("median_gap", "absolute")
TUNE_IMAGES = 500
# keras TextVectorization's "lower_and_strip_punctuation", so words line up with the token ids.
_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,\-\./:;<=>?@\[\\\]^_`{|}~\']')


def caption_words(caption):
    return _PUNCTUATION.sub("", caption.lower()).split()


def distinct_regions(boxes):
    """Indices of the distinct rows of a region table row [R, 4] (padding repeats the whole
    image, which must not count as another region): the MRF's M regions, in order."""
    seen, keep = set(), []
    for r, box in enumerate(np.asarray(boxes, np.float64)):
        key = tuple(np.round(box, 4))
        if key not in seen:
            seen.add(key)
            keep.append(r)
    return np.asarray(keep, np.int64)


def decode_options(cfg):
    opts = {**DEFAULTS, **{k: v for k, v in (cfg.get("decode") or {}).items() if k in DEFAULTS}}
    if opts["mrf_beta_scale"] not in BETA_SCALES:
        raise ConfigError(f"decode.mrf_beta_scale must be one of {', '.join(BETA_SCALES)}, "
                          f"got {opts['mrf_beta_scale']!r}")
    beta = float(opts["mrf_beta"])
    if not (np.isfinite(beta) and beta >= 0):
        raise ConfigError(f"decode.mrf_beta must be finite and >= 0, got {opts['mrf_beta']!r}")
    return opts


def median_gap(score_mats):
    """Median over all words of (best - second best region score); None without 2 regions."""
    gaps = [np.diff(np.sort(s, axis=1)[:, -2:], axis=1)[:, 0] for s in score_mats
            if s.shape[0] and s.shape[1] >= 2]
    return float(np.median(np.concatenate(gaps))) if gaps else None


def resolve_beta(opts, tune_scores):
    """(beta, how it was chosen) from decode options and the tuning sentences' score matrices."""
    if opts["mrf_beta_scale"] == "absolute":
        return float(opts["mrf_beta"]), f"decode.mrf_beta={opts['mrf_beta']} (absolute, Eq. 12)"
    gap = median_gap(tune_scores)
    if gap is None:
        return 0.0, "beta = 0: no validation word with two regions to measure a score gap on"
    words = sum(s.shape[0] for s in tune_scores)
    return float(opts["mrf_beta"]) * gap, (
        f"decode.mrf_beta={opts['mrf_beta']} x median best-vs-second region-score gap "
        f"{gap:.4g} over {words} validation words (decode.mrf_beta_scale=median_gap)")


class Sentences:
    """Every caption of `rows` with its own image's distinct regions: score matrices [n, M]
    (v_t^T s_j of Eq. 11), words, and where they came from."""

    def __init__(self, embedded, ids, region_table, rows):
        images, texts, t2i, flat = embedded
        self.rows, self.local, self.texts = np.asarray(rows), t2i, flat
        self.keep, self.scores, self.words = [], [], []
        for i, caption in enumerate(flat):
            row = self.rows[t2i[i]]
            keep = (distinct_regions(region_table[row]) if region_table is not None
                    else np.arange(images.shape[1]))
            n = int(np.count_nonzero(ids[i]))
            words = caption_words(caption)
            lined_up = len(words) == n or (n == ids.shape[1] and len(words) > n)  # truncated
            self.words.append(words[:n] if lined_up else None)
            self.keep.append(keep)
            self.scores.append(np.asarray(texts[i, :n], np.float64)
                               @ np.asarray(images[t2i[i]][keep], np.float64).T)

    def decode(self, beta):
        return [align_phrases(s, beta)[0] for s in self.scores]


def object_regions(dataset, region_table, row, keep):
    """For each object of a synthetic scene: the MRF region number of its box, or -1."""
    table = np.asarray(region_table[row])[keep]
    out = []
    for box in np.asarray(dataset.boxes[row]):
        hit = np.flatnonzero(np.all(np.abs(table - box) < 1e-4, axis=1))
        out.append(int(hit[0]) if len(hit) else -1)
    return out


def scene_targets(words, objects, object_region):
    """The right region of each word of a synthetic-scene caption (-1 = not scored) and which
    words are object nouns. A mention is '[size] colour shape' (data.sources._scene_text.phrase);
    its size, colour and shape words are scored when it names exactly one of the scene's
    objects and that object's box is a region. Articles and relation words are never scored."""
    n = len(words)
    targets, noun = np.full(n, -1, np.int64), np.zeros(n, bool)
    for j, word in enumerate(words):
        if word not in _scene_render.SHAPES or j == 0 or words[j - 1] not in _scene_render.COLORS:
            continue
        size = words[j - 2] if j >= 2 and words[j - 2] in _scene_render.SIZES else None
        named = [i for i, o in enumerate(objects) if o["shape"] == word
                 and o["color"] == words[j - 1] and (size is None or o["size"] == size)]
        if len(named) != 1 or object_region[named[0]] < 0:
            continue
        span = range(j - 2 if size else j - 1, j + 1)
        targets[list(span)] = object_region[named[0]]
        noun[j] = True
    return targets, noun


def has_scene_objects(cfg, dataset, region_table):
    objects = (dataset.meta or {}).get("objects")
    return (region_table is not None and objects is not None and dataset.boxes is not None
            and cfg["image"].get("regions") == "boxes")


def accuracy_metrics(dataset, region_table, sentences, beta):
    """phrase_box_accuracy / noun_box_accuracy under the MRF at `beta` and the per-word
    argmax (beta = 0), with chance; counts: the number of words scored per metric and the
    mean number of phrases (contiguous segments) per caption, "phrases" / "phrases_argmax"."""
    targets, nouns, m = [], [], []
    for i, words in enumerate(sentences.words):
        row = sentences.rows[sentences.local[i]]
        keep = sentences.keep[i]
        if words is None:  # tokens do not line up with the caption's words: not scored
            n = sentences.scores[i].shape[0]
            t, noun = np.full(n, -1, np.int64), np.zeros(n, bool)
        else:
            t, noun = scene_targets(words, dataset.meta["objects"][row],
                                    object_regions(dataset, region_table, row, keep))
        targets.append(t)
        nouns.append(np.where(noun, t, -1))
        m.append(len(keep))
    decoded = {"": sentences.decode(beta), "_argmax": sentences.decode(0.0)}
    metrics, chance = {}, {}
    counts = {"phrases" + suffix: float(np.mean([len(segments(a)) for a in assignments]))
              for suffix, assignments in decoded.items() if assignments}
    for name, tgt in (("phrase_box_accuracy", targets), ("noun_box_accuracy", nouns)):
        for suffix, assignments in decoded.items():
            out = box_accuracy(assignments, tgt, m)
            if out["accuracy"] is not None:
                metrics[name + suffix], chance[name + suffix] = out["accuracy"], out["chance"]
                counts[name] = out["words"]
    return metrics, chance, counts


def evaluate(cfg, dataset, region_table, embed_rows, tokenize, tune_rows, test_rows):
    """(metrics, chance, notes, beta). `embed_rows(rows)` -> image_sentence.embed's output;
    `tokenize(strings)` -> token ids (0 = padding); `region_table` = ImageInput.boxes."""
    opts = decode_options(cfg)
    if region_table is None:
        return {}, {}, ["MRF phrase alignment (Sec. 3.1.4) skipped: one region per image "
                        "(whole-image features)"], None

    def sentences(rows):
        embedded = embed_rows(rows)
        return Sentences(embedded, tokenize(embedded[3]), region_table, rows)

    tune_rows = np.asarray(tune_rows)[:TUNE_IMAGES]
    beta, how = resolve_beta(opts, sentences(tune_rows).scores if len(tune_rows) else [])
    notes = [f"MRF phrase alignment (Sec. 3.1.4): beta = {beta:.4g} ({how})"]
    if not has_scene_objects(cfg, dataset, region_table):
        notes.append("phrase_box_accuracy not measured: needs synthetic scenes with their "
                     "object boxes as regions (image.regions=boxes)")
        return {}, {}, notes, beta
    metrics, chance, counts = accuracy_metrics(dataset, region_table, sentences(test_rows), beta)
    if metrics:
        notes.append(
            "phrase_box_accuracy / noun_box_accuracy (our measurement, not a paper number; the "
            "paper shows MRF alignments only qualitatively): fraction of the test captions' "
            f"object-mention words ({counts.get('phrase_box_accuracy', 0)} size/colour/shape "
            f"words, {counts.get('noun_box_accuracy', 0)} shape nouns) aligned to that "
            f"object's box, under the MRF at beta = {beta:.4g}; *_argmax = beta 0 (each word "
            "to its best region); chance = 1/M, M = the image's regions incl. the whole image; "
            f"phrases per test caption: {counts['phrases']:.2f} under the MRF, "
            f"{counts['phrases_argmax']:.2f} under the argmax")
    return metrics, chance, notes, beta
