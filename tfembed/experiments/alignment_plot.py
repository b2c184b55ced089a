"""Figure of phrase-region alignments (Karpathy & Fei-Fei 2015, Fig. 5 and Sec. 3.1.4): for a
few test images, the image with its numbered region boxes beside a caption cut into the
contiguous phrases of the MRF alignment (Eq. 10-12 at the run's beta), each phrase after the
number of its box, and the per-word argmax (beta = 0) for comparison. The same alignments,
with the score matrices they came from, go to phrase_alignments.json so they can be checked
(tfembed.layers.mrf_alignment.align_phrases(scores, beta) reproduces them)."""

import json
import os
import textwrap

import numpy as np

from tfembed.data import pipeline
from tfembed.experiments import phrase_alignment as pa
from tfembed.layers.mrf_alignment import align_phrases, segments

COLOURS = ["tab:red", "tab:blue", "tab:green", "tab:orange", "tab:purple", "tab:cyan", "tab:olive"]
FIGURE = "region_word_alignment.png"
ALIGNMENTS = "phrase_alignments.json"


def _segments(words, assignment):
    return [{"start": s, "end": e, "region": r, "text": " ".join(words[s:e])}
            for s, e, r in segments(assignment)]


def sentence_records(model, text, image, dataset, rows, beta, caption=0):
    """One dict per row: its caption `caption`, words, distinct regions (number = index, 0 =
    whole image), scores [n, M], MRF and argmax alignments, and the right region of each
    object word when the data set knows it (synthetic scenes; -1 = not scored)."""
    rows = np.asarray(rows)
    regions = np.concatenate([np.asarray(model.encode_image(x))
                              for x in pipeline.image_batches(image.load, rows, 16)])
    captions = [dataset.texts[r][caption] for r in rows]
    ids = text.tokenize(captions)
    words_emb = np.asarray(model.encode_text(ids))
    vocab = text.preprocessor.get_vocabulary()
    out = []
    for k, row in enumerate(rows):
        keep = pa.distinct_regions(image.boxes[row])
        n = int(np.count_nonzero(ids[k]))
        words = pa.caption_words(captions[k])
        if not (len(words) == n or (n == ids.shape[1] and len(words) > n)):
            words = [vocab[i] if i < len(vocab) else "?" for i in ids[k][:n]]
        words = words[:n]
        scores = np.asarray(words_emb[k, :n], np.float64) @ np.asarray(regions[k][keep], np.float64).T
        mrf, _ = align_phrases(scores, beta)
        argmax, _ = align_phrases(scores, 0.0)
        rec = {"image_id": dataset.image_ids[row], "row": int(row), "caption": captions[k],
               "words": words,
               "regions": [{"number": i, "box_yxyx": [round(float(v), 4) for v in image.boxes[row][r]]}
                           for i, r in enumerate(keep)],
               "scores": scores.tolist(),
               "mrf": {"beta": beta, "assignment": mrf.tolist(), "segments": _segments(words, mrf)},
               "argmax": {"assignment": argmax.tolist(), "segments": _segments(words, argmax)}}
        objects = (dataset.meta or {}).get("objects")
        if objects is not None and dataset.boxes is not None:
            targets, _ = pa.scene_targets(words, objects[row],
                                          pa.object_regions(dataset, image.boxes, row, keep))
            rec["object_word_regions"] = targets.tolist()
        out.append(rec)
    return out


def plot_alignment(model, text, image, dataset, rows, workdir, beta, how=""):
    """Write phrase_alignments.json and region_word_alignment.png for `rows` (caption 0 each);
    returns the notes."""
    if image.boxes is None:
        return ["alignment plot skipped: one region per image (whole-image features)"]
    records = sentence_records(model, text, image, dataset, rows, beta)
    os.makedirs(workdir, exist_ok=True)
    json_path = os.path.join(workdir, ALIGNMENTS)
    with open(json_path, "w") as f:
        json.dump({"method": "Karpathy & Fei-Fei 2015, Sec. 3.1.4, Eq. 10-12: the maximum of "
                             "the chain MRF's E(a), exact dynamic programming "
                             "(tfembed.layers.mrf_alignment.align_phrases)",
                   "beta": beta, "beta_rule": how, "region_numbers": "0 = the whole image",
                   "segments": "[start, end) word indices", "sentences": records}, f, indent=1)
    notes = [f"phrase alignments: {json_path}"]
    if dataset.images is None and dataset.image_paths is None:
        return notes + ["alignment plot skipped: the regions are precomputed features without pixels"]
    notes.append(f"alignment plot: {_draw(records, dataset, workdir, beta)[0]}")
    return notes


def _draw(records, dataset, workdir, beta):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    k = len(records)
    fig, axes = plt.subplots(k, 2, figsize=(11, 3.4 * k), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 2.2]})
    for (ax, tx), rec in zip(axes, records):
        load, _ = pipeline.image_source(dataset, np.array([rec["row"]]))
        pixels = np.clip(np.asarray(load(0)), 0, 255).astype(np.uint8)
        h, w = pixels.shape[:2]
        ax.imshow(pixels)
        for reg in rec["regions"]:
            y0, x0, y1, x1 = reg["box_yxyx"]
            i, colour = reg["number"], COLOURS[reg["number"] % len(COLOURS)]
            ax.add_patch(Rectangle((x0 * w - 0.5, y0 * h - 0.5), (x1 - x0) * w, (y1 - y0) * h,
                                   fill=False, lw=4 if i == 0 else 2.5, ec=colour))
            ax.text(x0 * w + 0.5, y0 * h + 0.5, str(i), color="white", fontsize=10,
                    fontweight="bold", va="top", ha="left",
                    bbox={"facecolor": colour, "edgecolor": "none", "pad": 1.5})
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_title(f"{rec['image_id']} (box 0 = whole image)", fontsize=8)
        tx.axis("off")
        # The caption whole (wrapped), then the phrases from where it ends.
        caption = textwrap.fill(" ".join(rec["caption"].split()), 95)
        tx.text(0, 1.0, caption, fontsize=9, style="italic", va="top", transform=tx.transAxes)
        y = 1.0 - 0.075 * (caption.count("\n") + 1) - 0.04
        tx.text(0.02, y, f"MRF phrases (beta = {beta:.3g}):  [box number, also its colour]  "
                "phrase  (score: mean word-region score)", fontsize=9, fontweight="bold",
                va="top", transform=tx.transAxes)
        segs = rec["mrf"]["segments"]
        scores = np.asarray(rec["scores"])
        step = min(0.09, (y - 0.3) / max(1, len(segs)))
        for s, seg in enumerate(segs):
            score = scores[seg["start"]:seg["end"], seg["region"]].mean()
            tx.text(0.04, y - 0.1 - s * step, f"[{seg['region']}]  {seg['text']}  "
                    f"(score {score:.3g})", fontsize=10 if step >= 0.07 else 8, va="top",
                    transform=tx.transAxes, color=COLOURS[seg["region"] % len(COLOURS)])
        argmax = " | ".join(f"[{g['region']}] {g['text']}" for g in rec["argmax"]["segments"])
        tx.text(0.02, 0.2, "per-word argmax (beta = 0):\n" + textwrap.fill(argmax, 95),
                fontsize=8, color="dimgray", va="top", transform=tx.transAxes)
    fig.tight_layout()
    path = os.path.join(workdir, FIGURE)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path, fig
