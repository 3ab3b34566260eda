"""Label-smoothed cross entropy with ESPnet's LabelSmoothingLoss semantics.

The target distribution q puts 1 - smoothing on the reference token and
smoothing / (V - 1) on every other token; the loss is KL(q || p) summed over the
non-padding positions, divided by the batch size (normalize_length=False: a
per-utterance loss, ESPnet's default for ASR) or by the number of tokens
(normalize_length=True). KL and cross entropy differ by the entropy of q, a
constant, so the gradients are those of cross entropy to q; KL makes a perfect
prediction score 0.
"""
import math

import torch
from torch import nn


def _xlogx(x):
    return x * math.log(x) if x > 0 else 0.0


class LabelSmoothingLoss(nn.Module):
    """`loss(logits [batch, L, V], target [batch, L])`, target padding = padding_idx."""

    def __init__(self, size, padding_idx=-1, smoothing=0.1, normalize_length=False):
        super().__init__()
        self.size, self.padding_idx = size, padding_idx
        self.confidence, self.other = 1.0 - smoothing, smoothing / (size - 1)
        self.normalize_length = normalize_length
        # sum_v q_v log q_v, the same for every position
        self.neg_entropy = _xlogx(self.confidence) + (size - 1) * _xlogx(self.other)

    def forward(self, logits, target):
        log_probs = torch.log_softmax(logits.float(), dim=-1)
        valid = target != self.padding_idx
        target_log_prob = log_probs.gather(-1, target.clamp(min=0).unsqueeze(-1)).squeeze(-1)
        # -sum_v q_v log p_v = -(confidence - other) log p_target - other * sum_v log p_v
        cross_entropy = -(self.confidence - self.other) * target_log_prob - self.other * log_probs.sum(-1)
        total = ((cross_entropy + self.neg_entropy) * valid).sum()
        return total / (valid.sum() if self.normalize_length else target.shape[0])
