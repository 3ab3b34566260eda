"""Conformer layer (Gulati et al. 2020) and its convolution module.

A layer is: x + 1/2 FFN(x) (macaron half), x + MHSA(x), x + Conv(x), x + 1/2 FFN(x),
then LayerNorm; each sub-layer pre-normed (normalize_before) or post-normed. Without
the macaron FFN and the convolution module the same layer is a Transformer encoder
layer (x + MHSA, x + FFN), as in ESPnet, where both share this structure.
"""
import torch.nn.functional as F
from torch import nn

from toolkit.layers.attention import MultiHeadedAttention, RelPositionMultiHeadedAttention
from toolkit.layers.feed_forward import PositionwiseFeedForward
from toolkit.layers.residual import residual
from toolkit.utils.errors import ConfigError

NORMS = ("batch_norm", "layer_norm")


class ConvolutionModule(nn.Module):
    """Pointwise conv to 2C + GLU, depthwise conv (odd kernel, 'same' padding), norm, swish, pointwise conv.

    The pointwise convs are nn.Linear on [batch, time, C] (the same map as a kernel-1
    Conv1d). Padded frames are zeroed before the depthwise conv, so they never leak
    into valid frames.
    """

    def __init__(self, channels, kernel_size=31, norm="batch_norm"):
        super().__init__()
        if kernel_size % 2 == 0:
            raise ConfigError(f"cnn_module_kernel must be odd for 'same' padding, got {kernel_size}")
        if norm not in NORMS:
            raise ConfigError(f"cnn_module_norm {norm!r}: expected one of {', '.join(NORMS)}")
        self.pointwise_conv1 = nn.Linear(channels, 2 * channels)
        self.depthwise_conv = nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2, groups=channels)
        self.batch_norm = norm == "batch_norm"
        self.norm = nn.BatchNorm1d(channels) if self.batch_norm else nn.LayerNorm(channels)
        self.activation = nn.SiLU()
        self.pointwise_conv2 = nn.Linear(channels, channels)

    def forward(self, x, mask=None):
        """x [batch, time, C]; mask [batch, 1, time] bool (True: real frame) or None."""
        x = F.glu(self.pointwise_conv1(x), dim=-1).transpose(1, 2)  # [batch, C, time]
        if mask is not None:
            x = x.masked_fill(~mask, 0.0)
        x = self.depthwise_conv(x)
        if self.batch_norm:
            x = self.activation(self.norm(x)).transpose(1, 2)
        else:
            x = self.activation(self.norm(x.transpose(1, 2)))
        return self.pointwise_conv2(x)


class ConformerLayer(nn.Module):
    """One encoder layer; `forward(x, pos_emb, mask) -> x` for x [batch, T, size], mask [batch, 1, T].

    rel_pos: relative-position self-attention (needs pos_emb from RelPositionalEncoding);
    otherwise plain self-attention (pos_emb is ignored; use PositionalEncoding).
    """

    def __init__(self, size, attention_heads=4, linear_units=2048, dropout_rate=0.1, attention_dropout_rate=0.0,
                 rel_pos=True, macaron_style=True, use_cnn_module=True, cnn_module_kernel=31,
                 cnn_module_norm="batch_norm", normalize_before=True, activation_type="swish"):
        super().__init__()
        attention = RelPositionMultiHeadedAttention if rel_pos else MultiHeadedAttention
        self.rel_pos, self.normalize_before = rel_pos, normalize_before
        self.self_attn = attention(attention_heads, size, attention_dropout_rate)
        self.feed_forward = PositionwiseFeedForward(size, linear_units, dropout_rate, activation_type)
        self.norm_mha = nn.LayerNorm(size)
        self.norm_ff = nn.LayerNorm(size)
        self.feed_forward_macaron = self.norm_ff_macaron = None
        if macaron_style:
            self.feed_forward_macaron = PositionwiseFeedForward(size, linear_units, dropout_rate, activation_type)
            self.norm_ff_macaron = nn.LayerNorm(size)
        self.ff_scale = 0.5 if macaron_style else 1.0
        self.conv_module = self.norm_conv = self.norm_final = None
        if use_cnn_module:
            self.conv_module = ConvolutionModule(size, cnn_module_kernel, cnn_module_norm)
            self.norm_conv = nn.LayerNorm(size)
            self.norm_final = nn.LayerNorm(size)
        self.dropout = nn.Dropout(dropout_rate)

    def _sublayer(self, x, fn, norm, scale=1.0):
        return residual(x, fn, norm, self.dropout, self.normalize_before, scale)

    def forward(self, x, pos_emb, mask):
        if self.feed_forward_macaron is not None:
            x = self._sublayer(x, self.feed_forward_macaron, self.norm_ff_macaron, self.ff_scale)
        if self.rel_pos:
            x = self._sublayer(x, lambda y: self.self_attn(y, y, y, pos_emb, mask), self.norm_mha)
        else:
            x = self._sublayer(x, lambda y: self.self_attn(y, y, y, mask), self.norm_mha)
        if self.conv_module is not None:
            x = self._sublayer(x, lambda y: self.conv_module(y, mask), self.norm_conv)
        x = self._sublayer(x, self.feed_forward, self.norm_ff, self.ff_scale)
        return self.norm_final(x) if self.norm_final is not None else x
