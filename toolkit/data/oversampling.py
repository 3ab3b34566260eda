"""Per-epoch draws of utterances that give each category (dialect, speaker, ...) a chosen share.

Draws are stratified, not independent: a category with weight share s gets exactly
round(s * epoch_size) draws, taken from its utterances without replacement and
cycling through fresh permutations when it needs more draws than it has members.
So a small category is repeated as evenly as possible (each utterance floor or
ceil times) and a large one is subsampled, with a different subset each epoch.
"""
import logging

import numpy as np

from toolkit.utils.errors import ConfigError


def resolve_weights(sizes, weights):
    """{category: weight} from {category: number of utterances} and the user's `weights`.

    weights None: in proportion to size (every utterance equally often);
    'balanced': every category equally often; a dict {category: weight > 0}: the
    category's share of the epoch, relative to the other weights (not per utterance).
    """
    if weights is None:
        return dict(sizes)
    if weights == "balanced":
        return {cat: 1.0 for cat in sizes}
    if not isinstance(weights, dict):
        raise ConfigError(f"category_weights must be 'balanced' or a mapping {{category: weight}}, got {weights!r}")
    missing = sorted(set(sizes) - set(weights))
    if missing:
        raise ConfigError(f"category_weights has no weight for categories {missing}; give every category "
                          f"in utt2category a weight")
    bad = {cat: w for cat, w in weights.items() if cat in sizes and not float(w) > 0}
    if bad:
        raise ConfigError(f"category_weights must be positive, got {bad}; to leave a category out, "
                          f"remove its utterances from the data dir")
    unused = sorted(set(weights) - set(sizes))
    if unused:
        logging.warning("category_weights: categories %s have no utterances; their weights are ignored", unused)
    return {cat: float(weights[cat]) for cat in sizes}


def category_counts(weights, total):
    """Split `total` draws over categories in proportion to `weights` (largest remainder, ties by name)."""
    cats = sorted(weights)
    w = np.array([weights[c] for c in cats], dtype=float)
    share = total * w / w.sum()
    counts = np.floor(share).astype(int)
    rest = total - counts.sum()
    counts[np.argsort(counts - share, kind="stable")[:rest]] += 1
    return dict(zip(cats, counts.tolist()))


def draw_epoch(groups, counts, rng):
    """Indices for one epoch: counts[c] draws from each index array groups[c] (see module docstring)."""
    drawn = [np.zeros(0, dtype=int)]
    for cat in sorted(groups):
        members, need = groups[cat], counts[cat]
        cycles = -(-need // len(members))
        if cycles:
            drawn.append(np.concatenate([rng.permutation(members) for _ in range(cycles)])[:need])
    return np.concatenate(drawn)
