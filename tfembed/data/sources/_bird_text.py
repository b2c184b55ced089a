"""Natural-language descriptions of a synthetic bird: varied wording, synonyms, order and
omissions, as in crowd-sourced fine-grained descriptions (Reed et al. 2016, CUB text_c10)."""

COLOR_WORDS = {
    "red": ["red", "crimson", "scarlet", "bright red"],
    "blue": ["blue", "azure", "deep blue", "bright blue"],
    "yellow": ["yellow", "golden", "bright yellow", "lemon yellow"],
    "green": ["green", "olive green", "emerald", "leaf green"],
    "black": ["black", "jet black", "coal black", "inky black"],
    "white": ["white", "snowy white", "pale white", "pure white"],
    "brown": ["brown", "chestnut", "tawny", "dark brown"],
    "orange": ["orange", "rusty orange", "amber", "bright orange"],
}
PART_WORDS = {
    "body_color": ["body", "belly", "breast", "underparts"],
    "wing_color": ["wings", "wing feathers", "primaries", "coverts"],
    "crown_color": ["crown", "head", "cap", "nape"],
}
BEAK_WORDS = {
    "short": ["a short conical beak", "a small stubby bill", "a short thick beak"],
    "hooked": ["a hooked beak", "a curved hooked bill", "a strong hooked beak"],
    "long": ["a long pointed beak", "a long thin bill", "a long narrow beak"],
}
TAIL_WORDS = {
    "short": ["a short tail", "short tail feathers", "a stubby tail"],
    "long": ["a long tail", "long tail feathers", "a very long tail"],
    "forked": ["a forked tail", "a split tail", "a deeply notched tail"],
}
PATTERN_WORDS = {
    "plain": ["plain", "solid", "unmarked"],
    "striped": ["striped", "streaked", "barred"],
    "spotted": ["spotted", "speckled", "dotted"],
}
OPENINGS = ["this bird has", "a small bird with", "the bird has", "this is a bird with",
            "a bird with", "this small bird has", "this particular bird has"]


def _pick(rng, words):
    return words[int(rng.integers(len(words)))]


def _clauses(attrs, rng):
    body = f"{_pick(rng, COLOR_WORDS[attrs['body_color']])} {_pick(rng, PART_WORDS['body_color'])}"
    pattern = _pick(rng, PATTERN_WORDS[attrs["pattern"]])
    if rng.random() < 0.5:
        body_clause = f"a {pattern} {body}"
    else:
        body_clause = f"a {body} that is {pattern}"
    wing = f"{_pick(rng, COLOR_WORDS[attrs['wing_color']])} {_pick(rng, PART_WORDS['wing_color'])}"
    crown = f"a {_pick(rng, COLOR_WORDS[attrs['crown_color']])} {_pick(rng, PART_WORDS['crown_color'])}"
    return [body_clause, wing, crown, _pick(rng, BEAK_WORDS[attrs["beak"]]),
            _pick(rng, TAIL_WORDS[attrs["tail"]])]


def describe(attrs, rng):
    """One lower-case description mentioning 3-5 of the bird's visible attributes."""
    clauses = _clauses(attrs, rng)
    order = rng.permutation(len(clauses))
    keep = max(3, int((rng.random(len(clauses)) > 0.25).sum()))
    chosen = [clauses[i] for i in order[:keep]]
    if rng.random() < 0.3 and len(chosen) >= 4:  # two sentences, as people often write
        first, second = chosen[:2], chosen[2:]
        return (f"{_pick(rng, OPENINGS)} {' and '.join(first)}. "
                f"it also has {', '.join(second[:-1])} and {second[-1]}.")
    return f"{_pick(rng, OPENINGS)} {', '.join(chosen[:-1])} and {chosen[-1]}."
