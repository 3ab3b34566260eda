"""BatchSampler: length-aware, category-balanced, DDP-even, exactly resumable batches of utterance ids.

Use it as `DataLoader(dataset, batch_sampler=sampler)`: a batch is a list of keys and
the dataset maps a key to an example.

The plan of an epoch depends only on (seed, epoch), so every rank computes the same one:
1. draw the epoch's utterances: each once, or per category shares (oversampling.py);
2. group them into batches (batching.make_batches) and shuffle the batch order;
3. pad the batch list by repeating batches from its start until its length divides
   world_size, and give rank r batches r, r + W, r + 2W, ... Every rank gets the same
   number of batches, so no rank waits forever in a collective the others never join;
   the price is that the repeated batches' utterances are seen twice in that epoch.

Resuming: the iterator counts the batches it has yielded (`batches_done`). The trainer
saves `state_dict()` in its checkpoint after each optimizer step; after `load_state_dict()`
and `set_epoch(saved epoch)`, iteration yields exactly the batches an uninterrupted run
would still have produced in that epoch. A DataLoader with num_workers > 0 draws batches
ahead of training (up to num_workers * prefetch_factor), so then save
`state_dict(batches_done=n)` with n the trainer's own position in the epoch (batches
consumed since the epoch began, counting those before an earlier resume). The saved seed
replaces the configured one. Ranks move in lockstep, so rank 0's state resumes every rank.
`len(sampler)` is the whole epoch's count even when resuming mid-epoch.
"""
import hashlib
import logging

import numpy as np

from toolkit.data import batching
from toolkit.data.length_filter import filter_lengths
from toolkit.data.oversampling import category_counts, draw_epoch, resolve_weights
from toolkit.utils.errors import ConfigError, DataError


def _check_settings(s):
    """ConfigError for settings that cannot work together."""
    if s["batch_type"] not in batching.BATCH_TYPES:
        raise ConfigError(f"batch_type {s['batch_type']!r} is not one of: {', '.join(batching.BATCH_TYPES)}")
    if s["batch_type"] == "numel" and not (s["batch_bins"] or 0) > 0:
        raise ConfigError("batch_type numel needs a positive batch_bins (padded length x utterances per batch)")
    if s["batch_type"] != "numel" and not (s["batch_size"] or 0) >= 1:
        raise ConfigError(f"batch_type {s['batch_type']} needs batch_size >= 1, got {s['batch_size']}")
    if s["quadratic_duration"] is not None and (s["batch_type"] != "numel" or not s["quadratic_duration"] > 0):
        raise ConfigError("quadratic_duration must be positive and needs batch_type numel")
    for key in ("max_batch_size", "num_buckets", "epoch_size"):
        if s[key] is not None and not s[key] >= 1:
            raise ConfigError(f"{key} must be >= 1, got {s[key]}")
    if not 0 <= s["rank"] < s["world_size"]:
        raise ConfigError(f"rank {s['rank']} is outside world_size {s['world_size']}")
    if not (isinstance(s["seed"], int) and s["seed"] >= 0):
        raise ConfigError(f"seed must be a non-negative integer, got {s['seed']!r}")


class BatchSampler:
    """Yields lists of utterance ids; see the module docstring for the epoch plan and resuming.

    lengths: {utt: length} (frames, samples or seconds; numbers or table strings).
    batch_type: 'static' (batch_size utterances in random order), 'bucket' (batch_size
    utterances of similar length) or 'numel' (similar length, padded cost <= batch_bins,
    cost = n * max_len, or n * (max_len + max_len**2 / quadratic_duration)).
    max_batch_size caps every type; num_buckets sets how many length groups shuffle
    inside themselves (more: less padding, less randomness).
    categories {utt: category} with category_weights None, 'balanced' or {cat: share}
    oversample categories; epoch_size (default: number of utterances) sets draws per epoch.
    max_length/min_length with length_policy 'drop' or 'crop' filter lengths first:
    `dropped` lists (utt, length, reason), `cropped` holds utts the loader must crop,
    `oversized` lists utts that alone exceed batch_bins (each gets its own batch).
    """

    def __init__(self, lengths, batch_type="numel", batch_size=32, batch_bins=None, max_batch_size=None,
                 quadratic_duration=None, num_buckets=30, shuffle=True, seed=0, world_size=1, rank=0,
                 categories=None, category_weights=None, epoch_size=None,
                 max_length=None, min_length=None, length_policy="drop"):
        self._batching = dict(batch_type=batch_type, batch_size=batch_size, batch_bins=batch_bins,
                              max_batch_size=max_batch_size, quadratic_duration=quadratic_duration,
                              num_buckets=num_buckets)
        _check_settings(dict(self._batching, world_size=world_size, rank=rank, seed=seed, epoch_size=epoch_size))
        self.lengths, self.dropped, self.cropped = filter_lengths(lengths, max_length, min_length, length_policy)
        if not self.lengths:
            raise DataError(f"no utterances left to batch: all {len(lengths)} were dropped "
                            f"(min_length={min_length}, max_length={max_length})")
        self.keys = list(self.lengths)
        self._key_array = np.array(self.keys, dtype=object)
        self._lens = np.array(list(self.lengths.values()))
        self._groups = self._category_groups(categories, category_weights)
        sizes = {cat: len(group) for cat, group in self._groups.items()}
        self._counts = category_counts(resolve_weights(sizes, category_weights), epoch_size or len(self.keys))
        if categories is not None:
            logging.info("draws per epoch by category (draws/utterances): %s",
                         ", ".join(f"{c} {self._counts[c]}/{sizes[c]}" for c in sorted(sizes)))
        self.oversized = []
        if batch_type == "numel":
            alone = batching.batch_cost(1, self._lens, quadratic_duration)
            self.oversized = self._key_array[alone > batch_bins].tolist()
        if self.oversized:
            logging.warning("%d utterances alone exceed batch_bins=%s and get a batch each, e.g. %s",
                            len(self.oversized), batch_bins, ", ".join(self.oversized[:3]))
        self._fingerprint = dict(self._batching, shuffle=shuffle, world_size=world_size, data=self._data_hash())
        self.shuffle, self.seed, self.world_size, self.rank = shuffle, seed, world_size, rank
        self.epoch, self.batches_done, self._start, self._plan = 0, 0, 0, (None, [])

    def _category_groups(self, categories, weights):
        """{category: index array}; one group '' without categories."""
        if categories is None:
            if weights is not None:
                raise ConfigError("category_weights needs categories (utt2category)")
            return {"": np.arange(len(self.keys))}
        labels = [categories.get(k) for k in self.keys]
        missing = [k for k, label in zip(self.keys, labels) if label is None]
        if missing:
            raise DataError(f"utt2category has no category for {len(missing)} utterances, e.g. "
                            f"{', '.join(missing[:3])}; add them or run utils/fix_data_dir.sh")
        names, inverse = np.unique(np.array([str(label) for label in labels]), return_inverse=True)
        members = np.split(np.argsort(inverse, kind="stable"), np.cumsum(np.bincount(inverse))[:-1])
        return dict(zip(names.tolist(), members))

    def _data_hash(self):
        """Hash of the utterances, their batching lengths and the per-category draws."""
        digest = hashlib.sha1("\n".join(self.keys).encode("utf-8"))
        digest.update(self._lens.tobytes())
        digest.update(repr(sorted(self._counts.items())).encode("utf-8"))
        return digest.hexdigest()

    def _batches(self):
        """This rank's batches (index arrays) for the current epoch, built once per (seed, epoch)."""
        if self._plan[0] != (self.seed, self.epoch):
            rng = np.random.default_rng([self.seed, self.epoch])
            pool = draw_epoch(self._groups, self._counts, rng)
            if not self.shuffle:
                pool = np.sort(pool)
            batches = batching.make_batches(pool, self._lens, rng=rng if self.shuffle else None, **self._batching)
            if self.shuffle:
                batches = [batches[i] for i in rng.permutation(len(batches))]
            batches += [batches[i % len(batches)] for i in range(-len(batches) % self.world_size)]
            self._plan = ((self.seed, self.epoch), batches[self.rank::self.world_size])
        return self._plan[1]

    def __len__(self):
        """Batches this rank yields in the whole current epoch (equal on every rank)."""
        return len(self._batches())

    def __iter__(self):
        """Yield this epoch's batches as lists of keys, from the resume point if one was loaded."""
        batches = self._batches()
        start, self._start = self._start, 0
        self.batches_done = start
        for batch in batches[start:]:
            self.batches_done += 1
            yield self._key_array[batch].tolist()

    def set_epoch(self, epoch):
        """Select the epoch to iterate; a resume point loaded for this same epoch is kept."""
        if not (isinstance(epoch, (int, np.integer)) and epoch >= 0):
            raise ConfigError(f"epoch must be a non-negative integer, got {epoch!r}")
        if epoch != self.epoch:
            self.epoch, self.batches_done, self._start = int(epoch), 0, 0

    def state_dict(self, batches_done=None):
        """{'epoch', 'batches_done', 'seed', 'fingerprint'}; batches_done defaults to the batches yielded."""
        done = self.batches_done if batches_done is None else int(batches_done)
        return {"epoch": self.epoch, "batches_done": done, "seed": self.seed, "fingerprint": dict(self._fingerprint)}

    def load_state_dict(self, state):
        """Resume at the saved position. If data or batching settings changed, the saved epoch restarts."""
        self.seed, self.epoch, done = int(state["seed"]), int(state["epoch"]), int(state["batches_done"])
        saved = state.get("fingerprint", {})
        changed = [f"{k} ({saved.get(k)!r} -> {v!r})" for k, v in self._fingerprint.items() if saved.get(k) != v]
        if changed:
            logging.warning("sampler state was saved with other settings: %s; epoch %d restarts from its "
                            "first batch", ", ".join(changed), self.epoch)
            done = 0
        self.batches_done = self._start = done

    def padding_efficiency(self, batch):
        """Real / padded elements of a batch of keys, using the batching lengths (cropped at max_length)."""
        return batching.padding_efficiency([self.lengths[k] for k in batch])
