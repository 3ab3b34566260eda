"""Separation losses: pairwise negative SI-SNR / SNR / SD-SDR, permutation-invariant training (PIT).

Signals are [batch, source, time]; `lengths` [batch] gives each utterance's valid samples
(padding beyond is ignored: it is zeroed and left out of means). Losses are computed in
float32 or wider with autocast off, and are negative dB (lower is better):

- si_snr: both signals lose their mean; target = alpha * ref with alpha = <est, ref> / |ref|^2;
  -10 log10(|target|^2 / |est - target|^2). Insensitive to the estimate's scale.
- snr: -10 log10(|ref|^2 / |est - ref|^2). Scale-dependent.
- sd_sdr: -10 log10(|alpha * ref|^2 / |est - ref|^2) (scale-dependent SDR, Le Roux et al.
  2019): the target is scale-invariant, the error is not, so a wrong gain is penalised.

`eps` keeps silent signals finite: it is added to the reference energy in alpha and to both
energies of the ratio, (|t|^2 + eps) / (|e|^2 + eps): a perfect estimate gives a finite
-10 log10(|t|^2 / eps), all-silent signals 0 dB, and at speech energies the loss equals the
exact metric (not floored near -80 dB as with eps added to the ratio itself).

PIT: `pit_loss(pairwise)` picks, per utterance, the assignment of estimates to references
with the smallest mean loss: every permutation for up to 3 references, the Hungarian
algorithm (scipy's linear_sum_assignment) above. perm[b, j] is the estimate matched to
reference j; `reorder_sources(est, perm)` puts the estimates in reference order.

Loss threshold (SpeechBrain / ClearerVoice `threshold_byloss`): with `threshold` (e.g. -30,
i.e. 30 dB SI-SNR), utterances whose loss is at or below it are left out of the batch mean,
so well-separated utterances stop pulling the model; if every utterance is left out the loss
is 0, still connected to the graph (backward works and gives zero gradients). A NaN loss is
never left out, so the trainer's non-finite check still sees it.
"""
import itertools

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from toolkit.utils.errors import ConfigError

_EXHAUSTIVE_MAX_SOURCES = 3


def _prepare(est, ref, lengths, zero_mean):
    """Checked, padded-to-zero (optionally zero-mean) est [B, S_est, 1, T] and ref [B, 1, S_ref, T]."""
    if est.dim() != 3 or ref.dim() != 3 or est.shape[0] != ref.shape[0] or est.shape[2] != ref.shape[2]:
        raise ValueError(f"est and ref must be [batch, source, time] with one batch and time; "
                         f"got {tuple(est.shape)} and {tuple(ref.shape)}")
    dtype = torch.promote_types(est.dtype, torch.float32)
    est, ref = est.to(dtype), ref.to(dtype)
    num_samples = est.shape[2]
    mask = None
    if lengths is not None:
        lengths = torch.as_tensor(lengths, device=est.device)
        mask = (torch.arange(num_samples, device=est.device)[None, :] < lengths[:, None]).to(dtype)[:, None, :]
        est, ref = est * mask, ref * mask
    if zero_mean:
        count = num_samples if lengths is None else lengths.clamp(min=1).to(dtype)[:, None, None]
        est = est - est.sum(dim=2, keepdim=True) / count
        ref = ref - ref.sum(dim=2, keepdim=True) / count
        if mask is not None:
            est, ref = est * mask, ref * mask
    return est[:, :, None, :], ref[:, None, :, :]


def _neg_db(num, den, eps):
    return -10.0 * torch.log10((num + eps) / (den + eps))


def _projection(est, ref, eps):
    """alpha * ref, alpha = <est, ref> / (|ref|^2 + eps): [B, S_est, S_ref, T]."""
    alpha = (est * ref).sum(dim=-1, keepdim=True) / (ref.pow(2).sum(dim=-1, keepdim=True) + eps)
    return alpha * ref


def pairwise_neg_si_snr(est, ref, lengths=None, eps=1e-8):
    """Negative SI-SNR (dB) of every estimate against every reference: [B, S_est, S_ref]."""
    with torch.autocast(device_type=est.device.type, enabled=False):
        est, ref = _prepare(est, ref, lengths, zero_mean=True)
        target = _projection(est, ref, eps)
        return _neg_db(target.pow(2).sum(dim=-1), (est - target).pow(2).sum(dim=-1), eps)


def pairwise_neg_snr(est, ref, lengths=None, eps=1e-8, zero_mean=False):
    """Negative SNR (dB), |ref|^2 / |est - ref|^2, of every pair: [B, S_est, S_ref]."""
    with torch.autocast(device_type=est.device.type, enabled=False):
        est, ref = _prepare(est, ref, lengths, zero_mean)
        return _neg_db(ref.pow(2).sum(dim=-1), (est - ref).pow(2).sum(dim=-1), eps)


def pairwise_neg_sd_sdr(est, ref, lengths=None, eps=1e-8, zero_mean=False):
    """Negative scale-dependent SDR (dB), |alpha ref|^2 / |est - ref|^2, of every pair: [B, S_est, S_ref]."""
    with torch.autocast(device_type=est.device.type, enabled=False):
        est, ref = _prepare(est, ref, lengths, zero_mean)
        target = _projection(est, ref, eps)
        return _neg_db(target.pow(2).sum(dim=-1), (est - ref).pow(2).sum(dim=-1), eps)


PAIRWISE_LOSSES = {"si_snr": pairwise_neg_si_snr, "snr": pairwise_neg_snr, "sd_sdr": pairwise_neg_sd_sdr}


def _hungarian(pairwise):
    """Per utterance, the assignment of least total loss (non-finite losses treated as huge)."""
    cost = np.nan_to_num(pairwise.detach().double().cpu().numpy(), nan=1e30, posinf=1e30, neginf=-1e30)
    perm = np.empty((cost.shape[0], cost.shape[2]), dtype=np.int64)
    for b, matrix in enumerate(cost):
        rows, cols = linear_sum_assignment(matrix)
        perm[b, cols] = rows
    return torch.from_numpy(perm).to(pairwise.device)


def pit_loss(pairwise):
    """Permutation-invariant loss from pairwise losses [B, S_est, S_ref] -> (loss [B], perm [B, S_ref]).

    loss[b] = mean over references j of pairwise[b, perm[b, j], j], minimised over the
    assignments of distinct estimates to references (S_est >= S_ref; extra estimates stay
    unused). Exhaustive for S_ref <= 3, Hungarian above; gradients flow through the
    chosen entries.
    """
    batch, num_est, num_ref = pairwise.shape
    if num_est < num_ref:
        raise ValueError(f"PIT needs at least as many estimates as references; got {num_est} < {num_ref}")
    columns = torch.arange(num_ref, device=pairwise.device)
    if num_ref <= _EXHAUSTIVE_MAX_SOURCES:
        perms = torch.tensor(list(itertools.permutations(range(num_est), num_ref)), device=pairwise.device)
        perm = perms[pairwise.detach()[:, perms, columns].mean(dim=-1).argmin(dim=-1)]
    else:
        perm = _hungarian(pairwise)
    rows = torch.arange(batch, device=pairwise.device)[:, None]
    return pairwise[rows, perm, columns].mean(dim=-1), perm


def reorder_sources(est, perm):
    """est [B, S_est, ...] -> [B, S_ref, ...] with estimate perm[b, j] at position j."""
    return est[torch.arange(est.shape[0], device=est.device)[:, None], perm.to(est.device)]


def threshold_mean(losses, threshold=None):
    """Batch mean of per-utterance losses [B], leaving out those at or below `threshold` (see module doc)."""
    if threshold is None:
        return losses.mean()
    keep = ~(losses <= threshold)  # NaN is kept
    if not keep.any():
        return losses.sum() * 0.0
    return losses[keep].mean()


class PITLoss:
    """PIT over a pairwise loss `kind` ('si_snr', 'snr', 'sd_sdr') with an optional loss threshold.

    `loss, per_utt, perm = PITLoss("si_snr", threshold=-30)(est, ref, lengths)`: est and ref
    [B, S, T], lengths [B] or None; loss is the (thresholded) batch mean, per_utt [B] the
    PIT loss of each utterance, perm [B, S] the matched estimate of each reference.
    """

    def __init__(self, kind="si_snr", threshold=None, eps=1e-8):
        if kind not in PAIRWISE_LOSSES:
            raise ConfigError(f"separation loss kind {kind!r}: expected one of {sorted(PAIRWISE_LOSSES)}")
        self.kind, self.threshold, self.eps = kind, threshold, eps

    def __call__(self, est, ref, lengths=None):
        per_utt, perm = pit_loss(PAIRWISE_LOSSES[self.kind](est, ref, lengths, eps=self.eps))
        return threshold_mean(per_utt, self.threshold), per_utt, perm
