"""Separation of audio of any length: chunks, permutation alignment, overlap-add.

A mixture longer than `chunk` samples is cut into windows `chunk` long that overlap
by `overlap` samples (the last window ends at the last sample). Each window is
separated on its own; a separator's output order is arbitrary per window, so the
sources of each window are reordered to best match the previous window's on the
samples they share: the assignment maximising the summed normalised correlation
(Hungarian algorithm, any number of sources). The aligned windows are cross-faded
with linear ramps over the overlaps (weights summing to one everywhere).
"""
import torch
from scipy.optimize import linear_sum_assignment

from toolkit.utils.errors import ConfigError


def window_starts(length, chunk, overlap):
    """Start samples of the windows covering [0, length)."""
    if chunk <= 0 or not 0 <= overlap < chunk:
        raise ConfigError(f"chunk {chunk} and overlap {overlap}: need chunk > 0 and 0 <= overlap < chunk")
    if length <= chunk:
        return [0]
    if overlap == 0:
        raise ConfigError("windows must overlap (overlap > 0) to keep each source on its channel across windows")
    hop = chunk - overlap
    starts = list(range(0, length - chunk, hop))
    return starts + [length - chunk]


def best_order(previous, current):
    """Source order for `current` [S, L] that best matches `previous` [S, L] (normalised correlation)."""
    prev = previous / (previous.norm(dim=1, keepdim=True) + 1e-8)
    cur = current / (current.norm(dim=1, keepdim=True) + 1e-8)
    similarity = (prev @ cur.T).cpu().numpy()  # [prev source, current source]
    _, order = linear_sum_assignment(-similarity)
    return torch.as_tensor(order, device=current.device)


def _ramp(length, overlap_head, overlap_tail, device):
    """Cross-fade weights of one window: rising over its head overlap, falling over its tail overlap."""
    weight = torch.ones(length, device=device)
    if overlap_head:
        weight[:overlap_head] = torch.arange(1, overlap_head + 1, device=device) / (overlap_head + 1)
    if overlap_tail:
        weight[length - overlap_tail:] = torch.arange(overlap_tail, 0, -1, device=device) / (overlap_tail + 1)
    return weight


@torch.no_grad()
def separate_long(separate, mix, chunk, overlap):
    """Sources [S, T] of a mixture `mix` [T], `separate` mapping [1, L] -> [1, S, L] on any window."""
    length = mix.shape[-1]
    starts = window_starts(length, chunk, overlap)
    if len(starts) == 1:
        return separate(mix[None])[0]
    out, total = None, torch.zeros(length, device=mix.device)
    previous = None
    for i, start in enumerate(starts):
        end = start + chunk
        est = separate(mix[None, start:end])[0]
        if previous is not None:
            prev_start, prev_est = previous
            shared = prev_start + chunk - start  # samples both windows cover
            est = est[best_order(prev_est[:, chunk - shared:], est[:, :shared])]
        head = 0 if previous is None else previous[0] + chunk - start
        tail = 0 if i == len(starts) - 1 else start + chunk - starts[i + 1]
        weight = _ramp(chunk, head, tail, mix.device)
        if out is None:
            out = torch.zeros(est.shape[0], length, dtype=est.dtype, device=mix.device)
        out[:, start:end] += est * weight
        total[start:end] += weight
        previous = (start, est)
    return out / total
