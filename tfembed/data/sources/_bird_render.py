"""Draws one synthetic bird with numpy: body, wing, head with crown, beak, tail, pattern,
over a cluttered background, with random pose, scale, position and colour jitter."""

import numpy as np

COLOR_NAMES = ("red", "blue", "yellow", "green", "black", "white", "brown", "orange")
PALETTE = {
    "red": (200, 30, 30), "blue": (40, 70, 200), "yellow": (235, 210, 40),
    "green": (40, 150, 50), "black": (25, 25, 25), "white": (240, 240, 240),
    "brown": (130, 80, 40), "orange": (240, 130, 20),
}
BEAK_RGB = np.array([70, 60, 55], np.float32)


def _jitter(name, rng, amount=18.0):
    return np.clip(np.array(PALETTE[name], np.float32) + rng.normal(0, amount, 3), 0, 255)


def _ellipse(u, v, cu, cv, ru, rv):
    return ((u - cu) / ru) ** 2 + ((v - cv) / rv) ** 2 <= 1.0


def _triangle(u, v, p0, p1, p2):
    def side(a, b):
        return (u - b[0]) * (a[1] - b[1]) - (a[0] - b[0]) * (v - b[1])
    d0, d1, d2 = side(p0, p1), side(p1, p2), side(p2, p0)
    neg = (d0 < 0) | (d1 < 0) | (d2 < 0)
    pos = (d0 > 0) | (d1 > 0) | (d2 > 0)
    return ~(neg & pos)


def _background(size, rng):
    base = rng.uniform(150, 225, 3)
    y = np.linspace(0, 1, size)[:, None, None]
    img = np.broadcast_to(base + rng.uniform(-30, 30, 3) * y, (size, size, 3)).copy()
    yy, xx = np.mgrid[0:size, 0:size] / size
    for _ in range(rng.integers(2, 6)):  # clutter: desaturated twigs and leaves
        tone = np.full(3, rng.uniform(70, 160)) + rng.normal(0, 12, 3)
        if rng.random() < 0.5:
            a, b = rng.uniform(0, 1, 2), rng.uniform(0, 1, 2)
            d = np.abs((b[1] - a[1]) * xx - (b[0] - a[0]) * yy + b[0] * a[1] - b[1] * a[0])
            mask = d / (np.hypot(*(b - a)) + 1e-6) < rng.uniform(0.008, 0.02)
        else:
            mask = _ellipse(xx, yy, *rng.uniform(0, 1, 2), *rng.uniform(0.03, 0.09, 2))
        img[mask] = tone
    return img


def render(attrs, size, rng):
    """Return a uint8 (size, size, 3) image of a bird with the given attribute values."""
    img = _background(size, rng)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    cx, cy = rng.uniform(0.38, 0.62, 2) * size
    scale = size * 0.2 * rng.uniform(0.8, 1.1)
    angle = rng.uniform(-0.35, 0.35)
    facing = rng.choice([-1.0, 1.0])
    du, dv = (xx - cx) / scale, (yy - cy) / scale
    u = (np.cos(angle) * du + np.sin(angle) * dv) * facing
    v = -np.sin(angle) * du + np.cos(angle) * dv

    body_rgb, wing_rgb = _jitter(attrs["body_color"], rng), _jitter(attrs["wing_color"], rng)
    tail_tip = {"short": -1.45, "long": -2.1, "forked": -1.9}[attrs["tail"]]
    if attrs["tail"] == "forked":
        tail = (_triangle(u, v, (-0.7, -0.1), (tail_tip, -0.55), (-1.3, -0.05))
                | _triangle(u, v, (-0.7, 0.1), (tail_tip, 0.45), (-1.3, 0.05)))
    else:
        tail = _triangle(u, v, (-0.7, -0.18), (tail_tip, -0.3), (tail_tip, 0.25))
    img[tail] = wing_rgb
    body = _ellipse(u, v, 0.0, 0.0, 1.0, 0.62)
    img[body] = body_rgb
    dark = body_rgb * 0.45
    if attrs["pattern"] == "striped":
        img[body & (np.sin(u * 10.0) > 0.45)] = dark
    elif attrs["pattern"] == "spotted":
        for su, sv in [(-0.5, 0.2), (-0.1, 0.35), (0.3, 0.2), (0.55, 0.4), (-0.3, -0.1), (0.1, 0.0)]:
            img[body & _ellipse(u, v, su, sv, 0.11, 0.11)] = dark
    img[_ellipse(u, v, -0.15, -0.08, 0.62, 0.3)] = wing_rgb
    head = _ellipse(u, v, 0.95, -0.5, 0.4, 0.4)
    img[head] = body_rgb
    img[head & (v < -0.58)] = _jitter(attrs["crown_color"], rng)
    img[_ellipse(u, v, 1.08, -0.55, 0.07, 0.07)] = (10, 10, 10)
    beak = {"short": [(1.28, -0.62), (1.62, -0.48), (1.28, -0.36)],
            "hooked": [(1.28, -0.66), (1.78, -0.6), (1.55, -0.28)],
            "long": [(1.3, -0.56), (2.2, -0.47), (1.3, -0.44)]}[attrs["beak"]]
    img[_triangle(u, v, *beak)] = BEAK_RGB
    img = img * rng.uniform(0.85, 1.15) + rng.normal(0, 5, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)
