"""MossFormer2 building blocks: convolution-augmented projections and the gated attention layer.

Shapes are [batch, frames, channels] unless stated. Attribute names follow ClearerVoice-Studio's
MossFormer2 so that its released state dicts load unchanged (hence names like `mdl` and
`sequential`).
"""
import torch
from torch import nn
from torch.nn import functional as F


class ScaleNorm(nn.Module):
    """x / (||x||_2 / sqrt(dim)) * g over the last axis, with one learned gain g."""

    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.scale, self.eps = dim ** -0.5, eps
        self.g = nn.Parameter(torch.ones(1))

    def forward(self, x):
        norm = torch.linalg.vector_norm(x, dim=-1, keepdim=True) * self.scale
        return x / norm.clamp(min=self.eps) * self.g


class ChannelsFirst(nn.Module):
    """[batch, frames, channels] <-> [batch, channels, frames]."""

    def forward(self, x):
        return x.transpose(1, 2)


class DepthwiseConv1d(nn.Module):
    """Bias-free depthwise Conv1d with 'same' padding (odd kernel); [batch, channels, frames].

    Run as a (kernel, 1) Conv2d over [batch, channels, frames, 1]: the same sum, but oneDNN's
    depthwise kernel for that layout is about 3x faster on CPU than the one Conv1d reaches.
    """

    def __init__(self, channels, kernel_size):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, kernel_size, padding=(kernel_size - 1) // 2,
                              groups=channels, bias=False)

    def forward(self, x):
        conv = self.conv
        return F.conv2d(x.unsqueeze(-1), conv.weight.unsqueeze(-1), padding=(conv.padding[0], 0),
                        groups=conv.groups).squeeze(-1)


class ConvModule(nn.Module):
    """Residual depthwise convolution over time: x + dwconv(x)."""

    def __init__(self, channels, kernel_size=17):
        super().__init__()
        self.sequential = nn.Sequential(ChannelsFirst(), DepthwiseConv1d(channels, kernel_size))

    def forward(self, x):
        return x + self.sequential(x).transpose(1, 2)


class FFConvM(nn.Module):
    """Convolution-augmented projection: norm -> Linear -> SiLU -> ConvModule -> Dropout."""

    def __init__(self, dim_in, dim_out, norm_class=nn.LayerNorm, dropout=0.1, conv_kernel_size=17):
        super().__init__()
        self.mdl = nn.Sequential(norm_class(dim_in), nn.Linear(dim_in, dim_out), nn.SiLU(),
                                 ConvModule(dim_out, conv_kernel_size), nn.Dropout(dropout))

    def forward(self, x):
        return self.mdl(x)


class OffsetScale(nn.Module):
    """Per-head affine maps x * gamma[h] + beta[h] of one shared projection: returns `heads` tensors."""

    def __init__(self, dim, heads):
        super().__init__()
        self.gamma = nn.Parameter(torch.empty(heads, dim))
        self.beta = nn.Parameter(torch.zeros(heads, dim))
        nn.init.normal_(self.gamma, std=0.02)

    def forward(self, x):
        return (x.unsqueeze(-2) * self.gamma + self.beta).unbind(dim=-2)


class RotaryEmbedding(nn.Module):
    """Rotary positions on the first `dim` channels, rotating interleaved pairs (x0, x1), (x2, x3), ...

    Pair i at frame t turns by t * 10000^(-2i/dim). `freqs` is a constant kept in the state
    dict, as the released checkpoints store it.
    """

    def __init__(self, dim, theta=10000.0):
        super().__init__()
        self.register_buffer("freqs", 1.0 / theta ** (torch.arange(0, dim, 2).float() / dim))

    def forward(self, x):
        """x: [..., frames, channels] with channels >= dim."""
        frames = torch.arange(x.shape[-2], device=x.device, dtype=self.freqs.dtype)
        angles = (frames[:, None] * self.freqs).repeat_interleave(2, dim=-1)
        width = angles.shape[-1]
        rot, rest = x[..., :width], x[..., width:]
        pairs = rot.unflatten(-1, (-1, 2))
        turned = torch.stack((-pairs[..., 1], pairs[..., 0]), dim=-1).flatten(-2)
        return torch.cat((rot * angles.cos() + turned * angles.sin(), rest), dim=-1).type(x.dtype)


class ScaledSinusoidalEmbedding(nn.Module):
    """Absolute positions [frames, dim] = [sin(t * w), cos(t * w)] * learned scale."""

    def __init__(self, dim):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))
        self.register_buffer("inv_freq", 1.0 / 10000 ** (torch.arange(0, dim, 2).float() / dim))

    def forward(self, frames, device):
        t = torch.arange(frames, device=device, dtype=self.inv_freq.dtype)
        angles = t[:, None] * self.inv_freq
        return torch.cat((angles.sin(), angles.cos()), dim=-1) * self.scale


class GatedAttention(nn.Module):
    """MossFormer layer: single-head gated attention with joint local/global attention (FLASH-style).

    The first half of the channels is delayed by one frame (token shift). FFConvM projections give the value
    and gate streams v, u (2 * dim each) and one query/key base turned into four views by
    OffsetScale. Attention mixes quadratic relu^2 attention inside non-overlapping chunks of
    `group_size` frames with linear attention over the whole sequence, both with rotary
    positions; both streams share the attention weights. Output:
    x + to_out((attn(u) * v) * sigmoid(attn(v) * u)).
    """

    def __init__(self, dim, rotary, group_size=256, query_key_dim=128, dropout=0.1, conv_kernel_size=17):
        super().__init__()
        self.group_size = group_size
        self.rotary_pos_emb = rotary
        self.dropout = nn.Dropout(dropout)
        proj = {"norm_class": ScaleNorm, "dropout": dropout, "conv_kernel_size": conv_kernel_size}
        self.to_hidden = FFConvM(dim, 4 * dim, **proj)
        self.to_qk = FFConvM(dim, query_key_dim, **proj)
        self.qk_offset_scale = OffsetScale(query_key_dim, heads=4)
        self.to_out = FFConvM(2 * dim, dim, **proj)

    def forward(self, x):
        shifted, kept = x.chunk(2, dim=-1)
        shifted = F.pad(shifted, (0, 0, 1, -1))
        h = torch.cat((shifted, kept), dim=-1)
        hidden = self.to_hidden(h)  # [v | u]
        quad_q, lin_q, quad_k, lin_k = map(self.rotary_pos_emb, self.qk_offset_scale(self.to_qk(h)))
        att_v, att_u = self.attend(quad_q, lin_q, quad_k, lin_k, hidden).chunk(2, dim=-1)
        v, u = hidden.chunk(2, dim=-1)
        return x + self.to_out((att_u * v) * torch.sigmoid(att_v * u))

    def attend(self, quad_q, lin_q, quad_k, lin_k, values):
        """Chunked quadratic attention + global linear attention of `values` [batch, frames, channels]."""
        frames, g = values.shape[1], self.group_size
        pad = -frames % g

        def chunks(t):  # zero frames to a multiple of g; zero keys add nothing
            return F.pad(t, (0, 0, 0, pad)).unflatten(1, (-1, g))

        sim = chunks(quad_q) @ chunks(quad_k).transpose(-1, -2) / g
        attn = self.dropout(F.relu(sim) ** 2)
        local = (attn @ chunks(values)).flatten(1, 2)[:, :frames]
        global_ = lin_q @ (lin_k.transpose(-1, -2) @ values / frames)
        return local + global_
