"""PNG of a region-word alignment: an image with its region boxes, and a caption whose words
are coloured by the region they align to (argmax_i v_i^T s_t, Karpathy & Fei-Fei Fig. 5)."""

import os

import numpy as np

from tfembed.data import pipeline
from tfembed.layers.alignment import best_regions

COLOURS = ["tab:red", "tab:blue", "tab:green", "tab:orange", "tab:purple", "tab:cyan", "tab:olive"]


def plot_alignment(model, text, image, dataset, row, workdir, caption=0):
    if image.boxes is None or (dataset.images is None and dataset.image_paths is None):
        return "alignment plot skipped: the regions are precomputed features without pixels"
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    sentence = dataset.texts[row][caption]
    regions = np.asarray(model.encode_image(next(iter(pipeline.image_batches(image.load, [row], 1)))))[0]
    words = np.asarray(model.encode_text(text.tokenize([sentence])))[0]
    tokens = text.preprocessor.get_vocabulary()
    ids = text.tokenize([sentence])[0]
    n = int(np.count_nonzero(ids))
    best = np.asarray(best_regions(regions, words[:n]))
    load, _ = pipeline.image_source(dataset, np.array([row]))
    pixels = np.clip(np.asarray(load(0)), 0, 255).astype(np.uint8)
    h, w = pixels.shape[:2]
    fig, (ax, tx) = plt.subplots(1, 2, figsize=(9, 4.5), gridspec_kw={"width_ratios": [1, 1.2]})
    ax.imshow(pixels)
    seen = set()
    for r, (y0, x0, y1, x1) in enumerate(image.boxes[row]):
        key = (round(float(y0), 4), round(float(x0), 4), round(float(y1), 4), round(float(x1), 4))
        if key in seen:  # padding repeats the whole image
            continue
        seen.add(key)
        ax.add_patch(Rectangle((x0 * w, y0 * h), (x1 - x0) * w - 1, (y1 - y0) * h - 1, fill=False,
                               lw=2.5 if r else 4, ec=COLOURS[r % len(COLOURS)]))
    ax.set_xticks([]), ax.set_yticks([])
    ax.set_title("regions (region 0 = whole image)", fontsize=9)
    tx.axis("off")
    for t in range(n):
        word = tokens[ids[t]] if ids[t] < len(tokens) else "?"
        tx.text(0.02, 0.95 - t * 0.055, f"{word}  -> region {best[t]}", fontsize=11,
                color=COLOURS[best[t] % len(COLOURS)], transform=tx.transAxes)
    tx.set_title(sentence[:70], fontsize=9)
    fig.tight_layout()
    path = os.path.join(workdir, "region_word_alignment.png")
    os.makedirs(workdir, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return f"alignment plot: {path}"
