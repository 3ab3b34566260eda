"""Seeded generators for augmentation, reproducible per utterance and epoch.

Seeding from (seed, epoch, utterance id) makes an utterance's augmentation
independent of the worker that loads it and of the order of loading.
"""
import zlib

import numpy as np
import torch


def _entropy(seed, keys):
    return [int(seed)] + [zlib.crc32(k.encode()) if isinstance(k, str) else int(k) for k in keys]


def augment_rng(seed, *keys):
    """numpy Generator seeded from `seed` and keys (non-negative ints or strings), e.g. (seed, epoch, utt_id)."""
    return np.random.default_rng(_entropy(seed, keys))


def augment_generator(seed, *keys, device="cpu"):
    """torch.Generator on `device` seeded like `augment_rng`, e.g. for SpecAugment on a batch."""
    state = np.random.SeedSequence(_entropy(seed, keys)).generate_state(2, dtype=np.uint32)
    return torch.Generator(device=device).manual_seed(int(state[0]) << 32 | int(state[1]))
