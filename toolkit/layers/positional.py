"""Sinusoidal positional encodings (Vaswani et al. 2017): absolute, and relative for
Transformer-XL style attention (Dai et al. 2019) as the Conformer uses it.

Both scale the input by sqrt(d_model) (the embedding scale of the Transformer) and
return `(x, pos_emb)`: the absolute encoding adds the table to x and gives no pos_emb;
the relative one leaves x unshifted and gives the embeddings of the relative
positions T-1, T-2, ..., -(T-1) (ESPnet's "latest" RelPositionalEncoding layout),
which `attention.rel_shift` turns into a [query, key] lookup.
"""
import math

import torch
from torch import nn


def sinusoids(positions, d_model):
    """[len(positions), d_model]: sin at even, cos at odd dims, wavelengths 2pi .. 10000 * 2pi."""
    inv_freq = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    angles = positions.float()[:, None] * inv_freq[None, :]
    table = torch.empty(len(positions), d_model)
    table[:, 0::2] = torch.sin(angles)
    table[:, 1::2] = torch.cos(angles)
    return table


class _Sinusoidal(nn.Module):
    """A cached table of sinusoids, grown when a longer input comes (not saved in checkpoints)."""

    def __init__(self, d_model, dropout_rate, max_len=5000):
        super().__init__()
        self.d_model, self.xscale, self.max_len = d_model, math.sqrt(d_model), max_len
        self.dropout = nn.Dropout(dropout_rate)
        self.register_buffer("table", self.make_table(max_len), persistent=False)

    def grow(self, length):
        if length > self.max_len:
            self.max_len = length
            self.table = self.make_table(length).to(self.table.device)


class PositionalEncoding(_Sinusoidal):
    """x * sqrt(d) + PE(position), then dropout; `forward(x) -> (x, None)`."""

    def make_table(self, max_len):
        return sinusoids(torch.arange(max_len), self.d_model)

    def forward(self, x):
        self.grow(x.shape[1])
        return self.dropout(x * self.xscale + self.table[: x.shape[1]].to(x.dtype)), None


class RelPositionalEncoding(_Sinusoidal):
    """`forward(x) -> (dropout(x * sqrt(d)), dropout(PE(T-1 .. -(T-1))) [1, 2T-1, d])`."""

    def make_table(self, max_len):
        return sinusoids(torch.arange(max_len - 1, -max_len, -1), self.d_model)

    def forward(self, x):
        length = x.shape[1]
        self.grow(length)
        centre = self.max_len - 1  # row of relative position 0
        pos_emb = self.table[centre - length + 1: centre + length][None].to(x.dtype)
        return self.dropout(x * self.xscale), self.dropout(pos_emb)
