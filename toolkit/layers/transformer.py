"""Transformer decoder layer (Vaswani et al. 2017; ESPnet's DecoderLayer), with the
incremental form beam search uses. The encoder layer is conformer.ConformerLayer
without its macaron FFN and convolution module."""
import torch
from torch import nn

from toolkit.layers.attention import MultiHeadedAttention
from toolkit.layers.feed_forward import PositionwiseFeedForward
from toolkit.layers.residual import residual


class TransformerDecoderLayer(nn.Module):
    """x + causal self-attention, x + attention over the encoder output (memory), x + FFN."""

    def __init__(self, size, attention_heads=4, linear_units=2048, dropout_rate=0.1,
                 self_attention_dropout_rate=0.0, src_attention_dropout_rate=0.0, normalize_before=True):
        super().__init__()
        self.self_attn = MultiHeadedAttention(attention_heads, size, self_attention_dropout_rate)
        self.src_attn = MultiHeadedAttention(attention_heads, size, src_attention_dropout_rate)
        self.feed_forward = PositionwiseFeedForward(size, linear_units, dropout_rate, "relu")
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(size), nn.LayerNorm(size), nn.LayerNorm(size)
        self.dropout = nn.Dropout(dropout_rate)
        self.normalize_before = normalize_before

    def forward(self, tgt, tgt_mask, memory, memory_mask, cache=None):
        """tgt [batch, L, size], tgt_mask [batch, L, L], memory [batch, T, size], memory_mask [batch, 1, T].

        With `cache` (this layer's output for the first L-1 positions) only the last
        position is computed; the result is cache followed by it, [batch, L, size].
        """
        normed = self.norm1(tgt) if self.normalize_before else tgt
        query, query_mask, skip = normed, tgt_mask, tgt
        if cache is not None:
            query, query_mask, skip = normed[:, -1:], tgt_mask[:, -1:], tgt[:, -1:]
        x = skip + self.dropout(self.self_attn(query, normed, normed, query_mask))
        if not self.normalize_before:
            x = self.norm1(x)
        x = residual(x, lambda y: self.src_attn(y, memory, memory, memory_mask), self.norm2, self.dropout,
                     self.normalize_before)
        x = residual(x, self.feed_forward, self.norm3, self.dropout, self.normalize_before)
        return x if cache is None else torch.cat([cache, x], dim=1)
