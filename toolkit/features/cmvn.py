"""Cepstral mean and variance normalisation with Kaldi's stats layout.

Stats are a float64 matrix [2, D + 1]: row 0 holds the per-dimension sums and the
frame count in the last column; row 1 holds the sums of squares and 0. This is what
Kaldi's compute-cmvn-stats writes and apply-cmvn reads.
"""
import numpy as np
import torch

from toolkit.utils.errors import DataError

VAR_FLOOR = 1e-20  # Kaldi's apply-cmvn floor on the variance


def accumulate_cmvn(items, stats=None):
    """Add the frames of (utt, feats [frames, D]) pairs to `stats` (new if None); return stats."""
    for utt, feats in items:
        feats = np.asarray(feats, dtype=np.float64)
        if stats is None:
            stats = np.zeros((2, feats.shape[1] + 1), dtype=np.float64)
        if feats.ndim != 2 or feats.shape[1] != stats.shape[1] - 1:
            raise DataError(f"utterance {utt!r}: features of shape {feats.shape}, expected [frames, "
                            f"{stats.shape[1] - 1}] like the utterances before it")
        stats[0, :-1] += feats.sum(axis=0)
        stats[1, :-1] += np.square(feats).sum(axis=0)
        stats[0, -1] += feats.shape[0]
    return stats


def cmvn_mean_scale(stats, norm_vars=True):
    """(mean, scale) vectors so that normalised = (feats - mean) * scale."""
    stats = np.asarray(stats, dtype=np.float64)
    count = stats[0, -1]
    if count < 1:
        raise DataError("CMVN stats have a frame count below 1; were they accumulated over any features?")
    mean = stats[0, :-1] / count
    if not norm_vars:
        return mean, np.ones_like(mean)
    var = np.maximum(stats[1, :-1] / count - np.square(mean), VAR_FLOOR)
    return mean, 1.0 / np.sqrt(var)


def apply_cmvn(feats, stats, norm_vars=True):
    """Normalise feats [..., D] (numpy array or torch tensor) with Kaldi-layout stats."""
    mean, scale = cmvn_mean_scale(stats, norm_vars)
    if isinstance(feats, torch.Tensor):
        mean = torch.as_tensor(mean, dtype=feats.dtype, device=feats.device)
        scale = torch.as_tensor(scale, dtype=feats.dtype, device=feats.device)
        return (feats - mean) * scale
    return ((feats - mean) * scale).astype(feats.dtype, copy=False)
