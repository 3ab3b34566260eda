"""Batch samplers: budgets, bucketing, determinism, DDP evenness, resume, oversampling, length policy."""
import logging
from collections import Counter

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from toolkit.data.batching import batch_cost, padding_efficiency
from toolkit.data.length_filter import write_dropped
from toolkit.data.oversampling import category_counts
from toolkit.data.samplers import BatchSampler
from toolkit.data.tables import read_table, write_table
from toolkit.utils.errors import ConfigError, DataError


def random_lengths(n=500, low=100, high=1000, seed=0):
    rng = np.random.default_rng(seed)
    return {f"utt{i:04d}": int(x) for i, x in enumerate(rng.integers(low, high, n))}


def epoch(sampler, e=0):
    sampler.set_epoch(e)
    return list(sampler)


def test_padding_efficiency_is_real_over_padded():
    assert padding_efficiency([2, 4]) == pytest.approx(6 / 8)
    assert padding_efficiency([5, 5, 5]) == 1.0
    assert batch_cost(3, 100) == 300
    assert batch_cost(3, 100, quadratic_duration=100) == 600


@pytest.mark.parametrize("quadratic", [None, 400])
def test_numel_budget_respected_and_over_long_utterance_gets_own_batch(quadratic, caplog):
    lengths = random_lengths()
    lengths["huge"] = 20000
    with caplog.at_level(logging.WARNING):
        sampler = BatchSampler(lengths, batch_type="numel", batch_bins=8000, quadratic_duration=quadratic)
    assert sampler.oversized == ["huge"] and "huge" in caplog.text
    for e in range(3):
        batches = epoch(sampler, e)
        assert sorted(k for b in batches for k in b) == sorted(lengths)
        for batch in batches:
            cost = batch_cost(len(batch), max(lengths[k] for k in batch), quadratic)
            assert cost <= 8000 or batch == ["huge"]
        assert ["huge"] in batches


def test_quadratic_cost_shrinks_long_batches_more_than_short():
    lengths = {f"s{i:03d}": 100 for i in range(600)} | {f"l{i:03d}": 1000 for i in range(600)}

    def median_sizes(q):
        sampler = BatchSampler(lengths, batch_type="numel", batch_bins=30000, quadratic_duration=q)
        batches = epoch(sampler)
        for batch in batches:
            assert batch_cost(len(batch), max(lengths[k] for k in batch), q) <= 30000
        full = [b for b in batches if len({lengths[k] for k in b}) == 1]
        return {kind: np.median([len(b) for b in full if b[0][0] == kind]) for kind in "sl"}

    linear, quad = median_sizes(None), median_sizes(500)
    assert (linear["s"], linear["l"]) == (300, 30)
    # per-utterance cost: 100 -> 120 (x1.2), 1000 -> 3000 (x3)
    assert (quad["s"], quad["l"]) == (250, 10)


@pytest.mark.parametrize("batch_type", ["static", "bucket", "numel"])
def test_max_batch_size_caps_every_type(batch_type):
    sampler = BatchSampler(random_lengths(), batch_type=batch_type, batch_size=32, batch_bins=10 ** 9,
                           max_batch_size=7)
    sizes = [len(b) for b in epoch(sampler)]
    assert max(sizes) == 7 and sum(sizes) == 500


def test_bucket_batches_pad_far_less_than_static():
    lengths = random_lengths(2000)

    def mean_efficiency(batch_type):
        sampler = BatchSampler(lengths, batch_type=batch_type, batch_size=16)
        batches = epoch(sampler)
        assert all(len(b) == 16 for b in batches[:-1] if batch_type == "static")
        return np.mean([sampler.padding_efficiency(b) for b in batches])

    static, bucket = mean_efficiency("static"), mean_efficiency("bucket")
    # uniform lengths 100..1000: static expects ~mean/E[max of 16] = 550/947; 30 buckets are ~30 frames wide
    assert static < 0.65 and bucket > 0.95


@pytest.mark.parametrize("batch_type", ["static", "bucket", "numel"])
def test_order_depends_only_on_seed_and_epoch(batch_type):
    lengths = random_lengths()
    reversed_lengths = dict(reversed(list(lengths.items())))
    kwargs = dict(batch_type=batch_type, batch_size=16, batch_bins=8000, seed=3)
    a, b = BatchSampler(lengths, **kwargs), BatchSampler(reversed_lengths, **kwargs)
    assert epoch(a, 1) == epoch(b, 1)
    assert epoch(a, 1) != epoch(a, 2)
    assert epoch(a, 1) != epoch(BatchSampler(lengths, **dict(kwargs, seed=4)), 1)
    for e in (1, 2):
        assert Counter(k for batch in epoch(a, e) for k in batch) == Counter(list(lengths))  # each exactly once


def test_bucket_membership_changes_between_epochs():
    sampler = BatchSampler(random_lengths(), batch_type="bucket", batch_size=16)
    first, second = ({frozenset(b) for b in epoch(sampler, e)} for e in (0, 1))
    assert len(first & second) < len(first) // 4


def test_no_shuffle_gives_the_same_sorted_batches_every_epoch():
    lengths = random_lengths()
    sampler = BatchSampler(lengths, batch_type="numel", batch_bins=8000, shuffle=False)
    batches = epoch(sampler, 0)
    assert epoch(sampler, 5) == batches
    flat = [lengths[k] for b in batches for k in b]
    assert flat == sorted(flat)


@pytest.mark.parametrize("batch_type", ["static", "numel"])
def test_ranks_get_equal_batch_counts_and_cover_every_utterance(batch_type):
    lengths = {f"u{i:03d}": 100 + i for i in range(100)}
    kwargs = dict(batch_type=batch_type, batch_size=10, batch_bins=1500, world_size=3)
    for e in range(3):
        ranks = [BatchSampler(lengths, rank=r, **kwargs) for r in range(3)]
        per_rank = [epoch(s, e) for s in ranks]
        assert len({len(b) for b in per_rank}) == 1 and len({len(s) for s in ranks}) == 1
        global_plan = [b for i in range(len(per_rank[0])) for b in (p[i] for p in per_rank)]
        single = epoch(BatchSampler(lengths, **dict(kwargs, world_size=1)), e)
        n = len(single)
        assert global_plan == single + single[: -n % 3]  # padded by repeating batches from the start
        assert set(k for b in global_plan for k in b) == set(lengths)
        if batch_type == "static":
            assert n == 10 and len(per_rank[0]) == 4  # 10 batches padded to 12 over 3 ranks


def test_resume_mid_epoch_yields_the_uninterrupted_remainder():
    lengths = random_lengths()
    kwargs = dict(batch_type="numel", batch_bins=8000, seed=7, world_size=2, rank=1)
    full = epoch(BatchSampler(lengths, **kwargs), 4)

    interrupted = BatchSampler(lengths, **kwargs)
    interrupted.set_epoch(4)
    it = iter(interrupted)
    consumed = [next(it) for _ in range(5)]
    state = interrupted.state_dict()
    assert state["batches_done"] == 5 and state["epoch"] == 4 and state["seed"] == 7

    resumed = BatchSampler(lengths, **dict(kwargs, seed=0))
    resumed.load_state_dict(state)
    resumed.set_epoch(4)
    assert consumed + list(resumed) == full
    assert list(resumed) == full  # the next pass over the epoch starts from its first batch
    resumed.set_epoch(5)
    assert list(resumed) == epoch(BatchSampler(lengths, **kwargs), 5)


def test_resume_with_changed_settings_restarts_the_epoch_and_warns(caplog):
    lengths = random_lengths()
    old = BatchSampler(lengths, batch_type="numel", batch_bins=8000)
    old.set_epoch(2)
    next(iter(old))
    new = BatchSampler(lengths, batch_type="numel", batch_bins=9000)
    with caplog.at_level(logging.WARNING):
        new.load_state_dict(old.state_dict())
    assert "batch_bins (8000 -> 9000)" in caplog.text
    assert new.epoch == 2 and list(new) == epoch(BatchSampler(lengths, batch_type="numel", batch_bins=9000), 2)


def test_category_counts_round_by_largest_remainder():
    assert category_counts({"a": 1, "b": 2}, 10) == {"a": 3, "b": 7}
    assert category_counts({"a": 1, "b": 1, "c": 1}, 10) == {"a": 4, "b": 3, "c": 3}  # tie: first by name
    assert category_counts({"a": 3, "b": 7}, 10) == {"a": 3, "b": 7}


def test_balanced_oversampling_gives_each_category_equal_draws():
    lengths = {f"a{i:02d}": 100 for i in range(10)} | {f"b{i:02d}": 100 for i in range(90)}
    categories = {k: k[0] for k in lengths}
    sampler = BatchSampler(lengths, batch_type="static", batch_size=10, categories=categories,
                           category_weights="balanced")
    seen_b = Counter()
    for e in range(10):
        counts = Counter(k for b in epoch(sampler, e) for k in b)
        assert sum(counts.values()) == 100  # epoch size stays the number of utterances
        assert all(counts[f"a{i:02d}"] == 5 for i in range(10))  # 50 draws over 10 utts
        b_counts = [c for k, c in counts.items() if k[0] == "b"]
        assert len(b_counts) == 50 and set(b_counts) == {1}  # 50 distinct of 90, none twice
        seen_b.update(k for k in counts if k[0] == "b")
    assert len(seen_b) == 90  # a different subset each epoch
    # each b utt drawn with probability 50/90 per epoch: 10 epochs -> 5.6 on average
    assert 4.5 < np.mean(list(seen_b.values())) < 6.5 and max(seen_b.values()) <= 10


def test_explicit_weights_and_epoch_size_set_category_shares():
    lengths = {f"{c}{i:02d}": 50 + i for c in "xyz" for i in range(20)}
    categories = {k: k[0] for k in lengths}
    sampler = BatchSampler(lengths, batch_type="bucket", batch_size=8, categories=categories,
                           category_weights={"x": 1, "y": 2, "z": 5}, epoch_size=400)
    for e in range(3):
        counts = Counter(k for b in epoch(sampler, e) for k in b)
        assert Counter(k[0] for k in counts.elements()) == {"x": 50, "y": 100, "z": 250}
        # within a category every utterance is drawn as evenly as possible: 50/20 -> 2 or 3 times
        assert {c for k, c in counts.items() if k[0] == "x"} == {2, 3}
        assert {c for k, c in counts.items() if k[0] == "z"} == {12, 13}
    with pytest.raises(ConfigError, match=r"no weight for categories \['z'\]"):
        BatchSampler(lengths, categories=categories, category_weights={"x": 1, "y": 1}, batch_bins=1000)
    with pytest.raises(DataError, match="no category for 1 utterances, e.g. x00"):
        BatchSampler(lengths, categories={k: v for k, v in categories.items() if k != "x00"}, batch_bins=1000)


def test_drop_policy_reports_every_removed_utterance(tmp_path, caplog):
    write_table(tmp_path / "utt2num_frames", {"a": 50, "b": 500, "c": 5000, "d": 3})
    lengths = read_table(tmp_path / "utt2num_frames")  # table strings are accepted
    with caplog.at_level(logging.WARNING):
        sampler = BatchSampler(lengths, batch_type="bucket", batch_size=4, max_length=1000, min_length=10)
    assert sampler.dropped == [("c", "5000", "longer than max_length=1000"), ("d", "3", "shorter than min_length=10")]
    assert "dropped 2 of 4 utterances" in caplog.text
    assert sorted(k for b in epoch(sampler) for k in b) == ["a", "b"]
    write_dropped(sampler.dropped, tmp_path / "dropped.txt")
    assert (tmp_path / "dropped.txt").read_text() == ("c 5000 longer than max_length=1000\n"
                                                      "d 3 shorter than min_length=10\n")
    with pytest.raises(DataError, match="all 4 were dropped"):
        BatchSampler(lengths, max_length=1, batch_bins=100)
    with pytest.raises(DataError, match="'x': length 'ten' is not a non-negative number"):
        BatchSampler({"x": "ten"}, batch_bins=100)


def test_crop_policy_keeps_long_utterances_at_max_length():
    lengths = {"a": 100, "b": 900, "c": 5000}
    sampler = BatchSampler(lengths, batch_type="numel", batch_bins=2000, max_length=1000, length_policy="crop")
    assert sampler.dropped == [] and sampler.cropped == {"c"} and sampler.lengths["c"] == 1000
    assert sampler.oversized == []  # judged at its cropped length
    batches = epoch(sampler)
    assert sorted(k for b in batches for k in b) == ["a", "b", "c"]
    assert all(len(b) * max(sampler.lengths[k] for k in b) <= 2000 for b in batches)


def test_invalid_settings_are_config_errors():
    lengths = random_lengths(10)
    for kwargs, message in [(dict(batch_type="sorted"), "not one of: static, bucket, numel"),
                            (dict(batch_type="numel"), "needs a positive batch_bins"),
                            (dict(batch_type="static", quadratic_duration=10), "needs batch_type numel"),
                            (dict(batch_type="static", rank=2, world_size=2), "outside world_size"),
                            (dict(batch_type="static", length_policy="trim"), "not one of: drop, crop"),
                            (dict(batch_type="static", category_weights="balanced"), "needs categories")]:
        with pytest.raises(ConfigError, match=message):
            BatchSampler(lengths, **kwargs)


class LengthDataset(Dataset):
    """Maps a key to a 1-D tensor of its length, the way a task dataset maps keys to features."""

    def __init__(self, lengths):
        self.lengths = lengths

    def __getitem__(self, key):
        return key, torch.ones(int(self.lengths[key]))


def pad_collate(items):
    keys, tensors = zip(*items)
    return list(keys), torch.nn.utils.rnn.pad_sequence(tensors, batch_first=True)


@pytest.mark.parametrize("num_workers", [0, 2])
def test_works_as_dataloader_batch_sampler_and_resumes(num_workers):
    lengths = random_lengths(200, 10, 100)
    kwargs = dict(batch_type="numel", batch_bins=1000, seed=1)
    sampler = BatchSampler(lengths, **kwargs)
    sampler.set_epoch(3)
    loader = DataLoader(LengthDataset(lengths), batch_sampler=sampler, num_workers=num_workers,
                        collate_fn=pad_collate)
    expected = epoch(BatchSampler(lengths, **kwargs), 3)
    assert len(loader) == len(expected)
    it = iter(loader)
    consumed = []
    for _ in range(4):
        keys, padded = next(it)
        assert padded.shape == (len(keys), max(lengths[k] for k in keys)) and padded.numel() <= 1000
        consumed.append(keys)
    # workers prefetch: the sampler is ahead of training, so the trainer passes its own count
    assert sampler.batches_done >= 4 if num_workers else sampler.batches_done == 4
    state = sampler.state_dict(batches_done=len(consumed))
    del it

    resumed = BatchSampler(lengths, **kwargs)
    resumed.load_state_dict(state)
    resumed.set_epoch(3)
    rest = [keys for keys, _ in DataLoader(LengthDataset(lengths), batch_sampler=resumed,
                                           num_workers=num_workers, collate_fn=pad_collate)]
    assert consumed + rest == expected
