"""Gated dilated dense FSMN: the recurrence-free memory block that follows each MossFormer layer.

An FSMN (feedforward sequential memory network) gives every frame a learned, per-channel
weighted sum of its neighbours (a depthwise convolution over time). Here the memory is a
two-layer dilated dense net (dilations 1 and 2, each layer seeing all earlier outputs), fed
by a ReLU projection and gated by a second FFConvM branch. Shapes are [batch, frames,
channels]; attribute names follow ClearerVoice-Studio's MossFormer2 checkpoints.
"""
import torch
from torch import nn
from torch.nn import functional as F

from toolkit.models.sep.mossformer2_blocks import FFConvM


class DilatedDenseNet(nn.Module):
    """Dense stack of grouped time convolutions (kernel 2 * order - 1, dilation 2^i, 'same' padding).

    Layer i reads the concatenation [out_{i-1}, ..., out_0, x] in grouped convolution
    (`channels` groups of i + 1 inputs), then InstanceNorm and per-channel PReLU; the last
    output is returned. Input and output [batch, channels, frames, 1] (Conv2d weights, as in
    the checkpoints).

    The convolution runs as the same sum in a form CPU kernels handle well (oneDNN's grouped
    and dilated backward passes are 30x slower than its plain depthwise one): a dilation d
    conv is an undilated one on each of the d interleaved phases of the sequence, so frames
    are folded to [frames / d, d] (the d phases as columns); a group of i + 1 inputs is a
    depthwise conv per input channel, summed over the group.
    """

    def __init__(self, channels, order=20, depth=2):
        super().__init__()
        self.depth, self.channels, kernel = depth, channels, 2 * order - 1
        self.pad = (kernel - 1) // 2
        for i in range(depth):
            self.add_module(f"conv{i + 1}", nn.Conv2d(channels * (i + 1), channels, (kernel, 1),
                                                      dilation=(2 ** i, 1), groups=channels, bias=False))
            self.add_module(f"norm{i + 1}", nn.InstanceNorm2d(channels, affine=True))
            self.add_module(f"prelu{i + 1}", nn.PReLU(channels))

    def grouped_conv(self, i, x):
        """conv{i + 1} with 'same' padding: [batch, channels * (i + 1), frames, 1] -> [batch, channels, frames, 1]."""
        weight, d, frames = getattr(self, f"conv{i + 1}").weight, 2 ** i, x.shape[2]
        phases = F.pad(x, (0, 0, 0, -frames % d)).unflatten(2, (-1, d)).squeeze(-1) if d > 1 else x
        out = F.conv2d(F.pad(phases, (0, 0, self.pad, self.pad)), weight.reshape(-1, 1, *weight.shape[2:]),
                       groups=x.shape[1])
        if i > 0:
            out = out.unflatten(1, (self.channels, i + 1)).sum(2)
        return out.flatten(2)[:, :, :frames, None] if d > 1 else out

    def forward(self, x):
        dense = x
        for i in range(self.depth):
            out = getattr(self, f"prelu{i + 1}")(getattr(self, f"norm{i + 1}")(self.grouped_conv(i, dense)))
            dense = torch.cat((out, dense), dim=1)
        return out


class DilatedFsmn(nn.Module):
    """x + memory(project(relu(linear(x)))), the memory being a DilatedDenseNet."""

    def __init__(self, dim, hidden_dim, order=20):
        super().__init__()
        self.linear = nn.Linear(dim, hidden_dim)
        self.project = nn.Linear(hidden_dim, dim, bias=False)
        self.conv = DilatedDenseNet(dim, order)

    def forward(self, x):
        h = self.project(F.relu(self.linear(x)))
        return x + self.conv(h.transpose(1, 2).unsqueeze(-1)).squeeze(-1).transpose(1, 2)


class GatedFsmn(nn.Module):
    """x + to_v(x) * fsmn(to_u(x))."""

    def __init__(self, dim, order=20, dropout=0.1, conv_kernel_size=17):
        super().__init__()
        proj = {"norm_class": nn.LayerNorm, "dropout": dropout, "conv_kernel_size": conv_kernel_size}
        self.to_u = FFConvM(dim, dim, **proj)
        self.to_v = FFConvM(dim, dim, **proj)
        self.fsmn = DilatedFsmn(dim, dim, order)

    def forward(self, x):
        u = self.to_u(x)  # before to_v: dropout draws in the reference order
        return x + self.to_v(x) * self.fsmn(u)


class GatedFsmnBlock(nn.Module):
    """Residual bottleneck around a GatedFsmn: 1x1 conv + PReLU to `inner_dim`, LayerNorm,
    GatedFsmn, LayerNorm, 1x1 conv back to `dim`."""

    def __init__(self, dim, inner_dim=256, order=20, dropout=0.1, conv_kernel_size=17):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv1d(dim, inner_dim, 1), nn.PReLU())
        self.norm1 = nn.LayerNorm(inner_dim)
        self.gated_fsmn = GatedFsmn(inner_dim, order, dropout, conv_kernel_size)
        self.norm2 = nn.LayerNorm(inner_dim)
        self.conv2 = nn.Conv1d(inner_dim, dim, 1)

    def forward(self, x):
        h = self.norm1(self.conv1(x.transpose(1, 2)).transpose(1, 2))
        h = self.norm2(self.gated_fsmn(h))
        return x + self.conv2(h.transpose(1, 2)).transpose(1, 2)
