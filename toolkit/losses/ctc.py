"""CTC loss (Graves et al. 2006) in float32, and a uniform label-smoothing term for it.

Both are summed over the batch and divided by the batch size (ESPnet's reduction),
so they add up with a per-utterance attention loss.
"""
import torch
import torch.nn.functional as F


def ctc_loss(log_probs, input_lengths, targets, target_lengths, blank=0):
    """Sum over utterances of -log P(target | input), divided by the batch size.

    log_probs [batch, T, vocab] (log-softmax output), targets [batch, S] padded with
    any value (padding is ignored). Computed in float32 with autocast disabled; an
    utterance whose target cannot be aligned (too short an input) contributes 0
    (zero_infinity) instead of inf.
    """
    with torch.autocast(device_type=log_probs.device.type, enabled=False):
        losses = F.ctc_loss(log_probs.float().transpose(0, 1), targets.clamp(min=0), input_lengths, target_lengths,
                            blank=blank, reduction="none", zero_infinity=True)
    return losses.sum() / log_probs.shape[0]


def uniform_smoothing_loss(log_probs, input_lengths):
    """Cross entropy from the uniform distribution to each frame's posterior, summed over
    valid frames, divided by the batch size: sum_t -(1/V) sum_v log p_t(v).

    Mixed as (1 - w) * ctc + w * this, it pulls frame posteriors toward uniform (label
    smoothing for CTC: it discourages over-confident peaks). It differs from
    KL(uniform || p_t) by the constant log V per frame, so the gradients are the same.
    """
    valid = torch.arange(log_probs.shape[1], device=log_probs.device)[None, :] < input_lengths[:, None]
    per_frame = -log_probs.float().mean(dim=-1)
    return per_frame.masked_fill(~valid, 0.0).sum() / log_probs.shape[0]
