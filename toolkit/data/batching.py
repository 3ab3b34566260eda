"""Grouping utterance indices into batches: a fixed count, or a padded-size budget (ESPnet2 `numel`).

Lengths are in whatever unit the caller uses (frames, samples, seconds); budgets are
in the same unit times utterances.
"""
import numpy as np

BATCH_TYPES = ("static", "bucket", "numel")


def batch_cost(n, max_len, quadratic_duration=None):
    """Padded size of n utterances padded to `max_len`: n * max_len.

    With `quadratic_duration` q it is n * (max_len + max_len**2 / q), lhotse's
    correction for attention's quadratic cost: an utterance of length q costs double.
    """
    per_utt = max_len + max_len ** 2 / quadratic_duration if quadratic_duration else max_len
    return n * per_utt


def padding_efficiency(lengths):
    """Real / padded elements of a batch with these lengths (1.0 means no padding)."""
    lengths = np.asarray(lengths, dtype=float)
    padded = len(lengths) * lengths.max()
    return float(lengths.sum() / padded) if padded > 0 else 1.0


def bucketed_order(pool, lengths, num_buckets, multiple=1, rng=None):
    """`pool` (indices into `lengths`) ordered by length bucket, ascending.

    Buckets are consecutive runs of the pool sorted by length, of equal size
    rounded up to a multiple of `multiple` (so fixed-count batches never straddle
    two buckets). With `rng`, equal lengths tie at random and each bucket is
    shuffled, so batch membership changes from epoch to epoch; without, the order
    is simply sorted.
    """
    if rng is None:
        return pool[np.argsort(lengths[pool], kind="stable")]
    pool = rng.permutation(pool)
    order = pool[np.argsort(lengths[pool], kind="stable")]
    per_bucket = -(-len(order) // num_buckets)
    size = -(-per_bucket // multiple) * multiple
    return np.concatenate([rng.permutation(order[i:i + size]) for i in range(0, len(order), size)])


def count_batches(order, size):
    """Consecutive batches of `size` indices (the last one may be smaller)."""
    return [order[i:i + size] for i in range(0, len(order), size)]


def budget_batches(order, lengths, batch_bins, max_batch_size=None, quadratic_duration=None):
    """Greedy consecutive batches with batch_cost <= batch_bins and at most max_batch_size utterances.

    An utterance whose cost alone exceeds the budget gets a batch of its own.
    """
    lens = lengths[order].tolist()
    limit = max_batch_size or len(lens)
    batches, start, longest = [], 0, 0.0
    for i, length in enumerate(lens):
        n, grown = i - start + 1, max(longest, length)
        if n > 1 and (n > limit or batch_cost(n, grown, quadratic_duration) > batch_bins):
            batches.append(order[start:i])
            start, grown = i, length
        longest = grown
    if lens:
        batches.append(order[start:])
    return batches


def make_batches(pool, lengths, batch_type, batch_size=None, batch_bins=None, max_batch_size=None,
                 quadratic_duration=None, num_buckets=30, rng=None):
    """Batches (index arrays) over `pool`; with `rng` the order inside the epoch is random.

    static: `batch_size` utterances in random order; bucket: `batch_size` utterances
    of similar length; numel: similar length under the `batch_bins` budget. The batch
    order itself is left as built (ascending length for bucket/numel); the caller
    shuffles it. `max_batch_size` caps every type.
    """
    if batch_type == "numel":
        order = bucketed_order(pool, lengths, num_buckets, 1, rng)
        return budget_batches(order, lengths, batch_bins, max_batch_size, quadratic_duration)
    size = min(batch_size, max_batch_size or batch_size)
    if batch_type == "bucket":
        order = bucketed_order(pool, lengths, num_buckets, size, rng)
    else:
        order = rng.permutation(pool) if rng is not None else pool
    return count_batches(order, size)
