"""Captions of a synthetic scene: objects, their attributes and pairwise spatial relations."""


def phrase(obj, rng, article="a"):
    """'a red circle' / 'a small red circle' / 'the large blue square'."""
    words = [article]
    if rng.random() < 0.5:
        words.append(obj["size"])
    words += [obj["color"], obj["shape"]]
    return " ".join(words)


def relation(a, b):
    """Spatial relation of object a to object b from their centres."""
    dy, dx = a["cy"] - b["cy"], a["cx"] - b["cx"]
    if abs(dx) >= abs(dy):
        return "to the left of" if dx < 0 else "to the right of"
    return "above" if dy < 0 else "below"


def _inverse(rel):
    return {"to the left of": "to the right of", "to the right of": "to the left of",
            "above": "below", "below": "above"}[rel]


def describe(objects, rng):
    """One caption; templates vary wording, which objects are named and their order."""
    order = rng.permutation(len(objects))
    a, b = objects[order[0]], objects[order[1]]
    rel = relation(a, b)
    template = int(rng.integers(6))
    if template == 0:
        text = f"{phrase(a, rng)} {rel} {phrase(b, rng)}"
    elif template == 1:
        text = f"there is {phrase(a, rng)} {rel} {phrase(b, rng)}"
    elif template == 2:
        text = f"{phrase(b, rng, 'the')} is {_inverse(rel)} {phrase(a, rng, 'the')}"
    elif template == 3:
        names = [phrase(objects[i], rng) for i in order]
        text = "a picture of " + (", ".join(names[:-1]) + " and " + names[-1])
    elif template == 4:
        side = "next to" if rel.startswith("to the") else rel
        text = f"{phrase(a, rng)} {side} {phrase(b, rng)}"
    else:
        text = f"{phrase(a, rng)} and {phrase(b, rng)} on a dark background"
    if len(objects) > 2 and template in (0, 1, 4) and rng.random() < 0.5:
        text += f" with {phrase(objects[order[2]], rng)}"
    return text
