"""Per-token averages of frame-level values by durations, and mean/std normalisation.

Stats are {"mean", "std", "count"} over all per-token values of a set (the training
set's are used for every set, so a value means the same everywhere).
"""
import numpy as np

from toolkit.utils.errors import DataError


def token_average(values, durations, mask=None):
    """Mean of values [frames] over each token's frames -> [tokens] (float64).

    durations [tokens] (>= 1 each) must sum to the number of frames. With a boolean
    mask [frames] a token averages its masked frames only; a token with none of them
    averages all its frames (e.g. voiced frames for pitch, interpolated otherwise).
    """
    values = np.asarray(values, dtype=np.float64)
    durations = np.asarray(durations, dtype=np.int64)
    if len(durations) == 0 or durations.min() < 1 or durations.sum() != len(values):
        raise ValueError(f"durations (sum {int(durations.sum())}, min {durations.min(initial=0)}) must be >= 1 "
                         f"and sum to the {len(values)} frames")
    starts = np.concatenate(([0], np.cumsum(durations)[:-1]))
    means = np.add.reduceat(values, starts) / durations
    if mask is None:
        return means
    mask = np.asarray(mask, dtype=bool)
    counts = np.add.reduceat(mask.astype(np.int64), starts)
    masked = np.add.reduceat(np.where(mask, values, 0.0), starts) / np.maximum(counts, 1)
    return np.where(counts > 0, masked, means)


def compute_stats(arrays, name="values"):
    """{"mean", "std", "count"} over all elements of an iterable of 1-d arrays (float64)."""
    total = total_sq = count = 0.0
    for array in arrays:
        array = np.asarray(array, dtype=np.float64)
        total, total_sq, count = total + array.sum(), total_sq + np.square(array).sum(), count + array.size
    if count == 0:
        raise DataError(f"no {name} to compute statistics from")
    mean = total / count
    std = float(np.sqrt(max(total_sq / count - mean * mean, 0.0)))
    if std == 0.0:
        raise DataError(f"all {int(count)} {name} are equal ({mean}); cannot normalise by their std")
    return {"mean": float(mean), "std": std, "count": int(count)}


def normalize(values, stats):
    """(values - mean) / std."""
    return (np.asarray(values, dtype=np.float64) - stats["mean"]) / stats["std"]
