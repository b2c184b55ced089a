"""retrieval_queries.png: a few description queries, each above its top images.

Each result shows its rank and score; its border says whether it is of the query's class
(green) or not (red), and a legend on the figure says so. The query is printed whole,
wrapped to the figure's width: a figure that cuts the query cannot be checked against it.
"""

import textwrap

import numpy as np

RIGHT, WRONG = "green", "red"
LEGEND = {RIGHT: "image of the query's class", WRONG: "image of another class"}


def wrap(text, columns):
    return textwrap.fill(" ".join(str(text).split()), columns)


def queries_figure(queries, results):
    """queries: [str]; results: per query a list of (pixels [H, W, 3], score, right: bool),
    best first. Returns the matplotlib Figure (Agg)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    n, top = len(queries), max(len(r) for r in results)
    columns = max(30, int(top * 2 * 11))  # ~11 characters per inch at 9 pt
    wrapped = [wrap(q, columns) for q in queries]
    lines = [w.count("\n") + 1 for w in wrapped]
    # Each row: the query's text lines (0.17 in each), then the images with their titles.
    heights = [0.17 * k + 2.3 for k in lines]
    fig = plt.figure(figsize=(2 * top, sum(heights) + 0.5))
    grid = fig.add_gridspec(n, top, height_ratios=heights, left=0.02, right=0.98,
                            top=1 - 0.5 / (sum(heights) + 0.5), bottom=0.01, wspace=0.05,
                            hspace=0.05)
    for q, (text, row) in enumerate(zip(wrapped, results)):
        for j, (pixels, score, right) in enumerate(row):
            ax = fig.add_subplot(grid[q, j])
            ax.imshow(np.clip(pixels, 0, 255).astype(np.uint8), aspect="auto")
            for spine in ax.spines.values():
                spine.set_color(RIGHT if right else WRONG)
                spine.set_linewidth(3)
            ax.set_xticks([]), ax.set_yticks([])
            ax.set_title(f"rank {j + 1}  score {score:.4g}", fontsize=8, pad=2)
            # The images sit in the lower part of the row; the query goes above the first.
            box = ax.get_position()
            frac = 2.0 / heights[q]
            ax.set_position([box.x0, box.y0, box.width, box.height * frac])
            if j == 0:
                fig.text(box.x0, box.y1, f"query {q + 1}: {text}", fontsize=9, va="top",
                         ha="left")
    fig.legend(handles=[Patch(facecolor="white", edgecolor=c, linewidth=3, label=LEGEND[c])
                        for c in (RIGHT, WRONG)], loc="upper center", ncol=2, fontsize=9,
               frameon=False, bbox_to_anchor=(0.5, 1.0))
    return fig


def figure_texts(fig):
    """Every string drawn on `fig` (figure texts, axes titles and texts, legend labels)."""
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [ax.get_title()] + [t.get_text() for t in ax.texts]
        out += [ax.xaxis.get_label().get_text(), ax.yaxis.get_label().get_text()]
    for legend in fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]:
        out += [t.get_text() for t in legend.get_texts()]
    return [t for t in out if t]
