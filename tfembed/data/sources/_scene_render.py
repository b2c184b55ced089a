"""Draws the objects of one synthetic scene with numpy: filled shapes on a noisy background."""

import numpy as np

SHAPES = ("circle", "square", "triangle", "star")
COLORS = {"red": (210, 35, 35), "green": (40, 165, 55), "blue": (45, 75, 215),
          "yellow": (235, 215, 40), "purple": (140, 50, 170), "white": (245, 245, 245)}
SIZES = {"small": 0.10, "large": 0.15}  # half-width as a fraction of the image side


def _mask(shape, u, v, cy, cx, r):
    """Pixels (u = row, v = column, both in [0, 1]) inside `shape` centred at (cy, cx)."""
    dy, dx = u - cy, v - cx
    if shape == "circle":
        return dy ** 2 + dx ** 2 <= r ** 2
    if shape == "square":
        return (np.abs(dy) <= r * 0.85) & (np.abs(dx) <= r * 0.85)
    if shape == "triangle":  # apex up: inside when below the two slanted edges
        return (dy <= r) & (dy >= -r + 2 * np.abs(dx))
    angle = np.arctan2(dy, dx)  # star: radius peaks five times around the centre
    radius = r * (0.45 + 0.55 * np.abs(np.cos(2.5 * (angle + np.pi / 2))))
    return dy ** 2 + dx ** 2 <= radius ** 2


def render(objects, size, rng):
    """objects: dicts with shape, color, size, cy, cx -> uint8 [size, size, 3]."""
    grid = (np.arange(size) + 0.5) / size
    u, v = np.meshgrid(grid, grid, indexing="ij")
    base = rng.uniform(60, 110, 3)
    img = np.broadcast_to(base, (size, size, 3)) + rng.normal(0, 8, (size, size, 3))
    for obj in objects:
        colour = np.clip(np.array(COLORS[obj["color"]], np.float32) + rng.normal(0, 12, 3), 0, 255)
        img = np.where(_mask(obj["shape"], u, v, obj["cy"], obj["cx"], SIZES[obj["size"]])[..., None],
                       colour, img)
    return np.clip(img, 0, 255).astype(np.uint8)


def box(obj):
    """(y0, x0, y1, x1) in [0, 1] of an object."""
    r = SIZES[obj["size"]]
    return np.clip([obj["cy"] - r, obj["cx"] - r, obj["cy"] + r, obj["cx"] + r], 0.0, 1.0)
