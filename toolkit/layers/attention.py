"""Multi-head attention: plain (Vaswani et al. 2017) and with relative positions
(Transformer-XL, Dai et al. 2019, as the Conformer uses it; ESPnet's
RelPositionMultiHeadedAttention with the "latest" positional layout).

Masks are bool, True where a query may attend a key: [batch, 1, keys] (padding) or
[batch, queries, keys] (padding and causality). Plain attention runs in torch's
scaled_dot_product_attention; the relative-position one adds its positional term
inside the content GEMM (see RelPositionMultiHeadedAttention).
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

from toolkit.utils.errors import ConfigError


class MultiHeadedAttention(nn.Module):
    """softmax(Q K^T / sqrt(d_k)) V over `n_head` heads, with linear maps in and out."""

    def __init__(self, n_head, n_feat, dropout_rate=0.0):
        super().__init__()
        if n_feat % n_head:
            raise ConfigError(f"attention: size {n_feat} is not divisible by {n_head} heads")
        self.h, self.d_k = n_head, n_feat // n_head
        self.linear_q = nn.Linear(n_feat, n_feat)
        self.linear_k = nn.Linear(n_feat, n_feat)
        self.linear_v = nn.Linear(n_feat, n_feat)
        self.linear_out = nn.Linear(n_feat, n_feat)
        self.dropout_rate = dropout_rate

    def split_heads(self, x):
        """[batch, time, h * d_k] -> [batch, h, time, d_k]."""
        return x.view(x.shape[0], -1, self.h, self.d_k).transpose(1, 2)

    def attend(self, q, k, v, mask):
        """linear_out(attention) for q, k, v [batch, h, time, d_k] and a bool mask."""
        if mask is not None and mask.dim() == 3:
            mask = mask.unsqueeze(1)
        dropout = self.dropout_rate if self.training else 0.0
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout)
        return self.linear_out(out.transpose(1, 2).flatten(2))

    def forward(self, query, key, value, mask=None):
        """[batch, queries, n_feat] attending [batch, keys, n_feat] -> [batch, queries, n_feat]."""
        q = self.split_heads(self.linear_q(query))
        return self.attend(q, self.split_heads(self.linear_k(key)), self.split_heads(self.linear_v(value)), mask)


def rel_shift(scores):
    """Scores by relative position [..., T, 2T-1] (positions T-1 .. -(T-1)) -> [..., T, T].

    out[..., i, j] = scores[..., i, T-1-i+j]: the score of query i for the relative
    position i - j of key j. A strided view, no copy (Transformer-XL's shift trick
    written as the view it amounts to).
    """
    *lead, length, width = scores.shape
    if width != 2 * length - 1:
        raise ValueError(f"rel_shift: expected [..., T, 2T-1] scores, got {tuple(scores.shape)}")
    scores = scores.contiguous()
    stride = (*scores.stride()[:-2], width - 1, 1)
    return scores.as_strided((*lead, length, length), stride, scores.storage_offset() + length - 1)


class RelPositionMultiHeadedAttention(MultiHeadedAttention):
    """Self-attention with relative positions: scores (q + u) k^T + rel_shift((q + v) p^T), over sqrt(d_k).

    p = linear_pos(pos_emb) are the projected embeddings of the relative positions from
    positional.RelPositionalEncoding; u, v (pos_bias_u, pos_bias_v) are learned per head.
    The positional term plus the mask is added inside the content GEMM (baddbmm); on CPU
    this is faster than giving it to scaled_dot_product_attention as a float mask
    (test/bench/bench_conformer.py).
    """

    def __init__(self, n_head, n_feat, dropout_rate=0.0):
        super().__init__(n_head, n_feat, dropout_rate)
        self.linear_pos = nn.Linear(n_feat, n_feat, bias=False)
        self.pos_bias_u = nn.Parameter(torch.empty(self.h, self.d_k))
        self.pos_bias_v = nn.Parameter(torch.empty(self.h, self.d_k))
        nn.init.xavier_uniform_(self.pos_bias_u)
        nn.init.xavier_uniform_(self.pos_bias_v)

    def forward(self, query, key, value, pos_emb, mask=None):
        """Self-attention over x [batch, T, n_feat] with pos_emb [1, 2T-1, n_feat] and mask [batch, 1, T]."""
        batch, length = query.shape[:2]
        scale = 1.0 / math.sqrt(self.d_k)
        q = self.linear_q(query).view(batch, length, self.h, self.d_k)
        k = self.split_heads(self.linear_k(key))
        v = self.split_heads(self.linear_v(value))
        p = self.split_heads(self.linear_pos(pos_emb))
        q_u = ((q + self.pos_bias_u) * scale).transpose(1, 2)
        q_v = ((q + self.pos_bias_v) * scale).transpose(1, 2)
        bias = rel_shift(torch.matmul(q_v, p.transpose(-2, -1)))  # [batch, h, T, T], a strided view
        if mask is not None:
            bias = bias + torch.zeros(mask.shape, dtype=bias.dtype, device=bias.device).masked_fill_(
                ~mask, float("-inf")).unsqueeze(1)
        scores = torch.baddbmm(bias.reshape(-1, length, length), q_u.reshape(-1, length, self.d_k),
                               k.reshape(-1, length, self.d_k).transpose(1, 2))
        probs = F.dropout(torch.softmax(scores, dim=-1), self.dropout_rate, self.training)
        out = torch.bmm(probs, v.reshape(-1, length, self.d_k)).view(batch, self.h, length, self.d_k)
        return self.linear_out(out.transpose(1, 2).reshape(batch, length, -1))
