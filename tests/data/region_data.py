"""A tiny Flickr8k-layout root for the region-feature tests: images whose 3x3 grid cells have
distinct colours (so a crop's colour says which cell it came from), 5 captions each."""

import numpy as np

WORDS = ("red", "green", "blue", "dog", "cat", "ball", "grass", "water", "runs", "sits")


def cell_colours(seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(3, 3, 3)).astype(np.uint8)


def write_image(path, colours, width=48, height=36):
    """Saved as PNG (exact colours) under its .jpg name: PIL and TF decode by content."""
    from PIL import Image

    pixels = np.zeros((height, width, 3), np.uint8)
    for r in range(3):
        for c in range(3):
            rows = slice(r * height // 3, (r + 1) * height // 3)
            pixels[rows, c * width // 3:(c + 1) * width // 3] = colours[r, c]
    Image.fromarray(pixels).save(path, format="PNG")
    return pixels


def flickr8k_root(root, splits=(("train", 6), ("dev", 2), ("test", 4))):
    """Write the root; returns {file name: pixels}."""
    (root / "images").mkdir(parents=True)
    rng = np.random.default_rng(0)
    tokens, out, k = [], {}, 0
    for split, n in splits:
        names = [f"{1000 + k + i}_img.jpg" for i in range(n)]
        (root / f"Flickr_8k.{split}Images.txt").write_text("".join(f"{m}\n" for m in names))
        for name in names:
            out[name] = write_image(root / "images" / name, cell_colours(k))
            for j in range(5):
                tokens.append(f"{name}#{j}\ta {' '.join(rng.choice(WORDS, 4))} .")
            k += 1
    (root / "Flickr8k.token.txt").write_text("\n".join(tokens) + "\n")
    return out
