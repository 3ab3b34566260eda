"""HiFi-GAN generator (Kong et al., 2020): log-mel [B, n_mels, frames] -> wave [B, 1, frames * hop].

conv_pre (k7) -> per stage: leaky ReLU, transposed-conv upsampling, multi-receptive-field
fusion (mean of ResBlocks with different kernels) -> leaky ReLU -> conv_post (k7) -> tanh.
Every conv carries weight norm; `remove_weight_norm()` folds it into plain weights for inference.
As in the authors' code, the leaky ReLU before conv_post has slope 0.01, all others 0.1.
"""
import math

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import weight_norm

from toolkit.utils.errors import ConfigError, DataError

SLOPE = 0.1

# The three generators of the paper (V1 13.9 M, V2 0.93 M, V3 1.46 M parameters with 80 mels).
HIFIGAN_CONFIGS = {
    "v1": dict(upsample_initial_channel=512, upsample_rates=(8, 8, 2, 2), upsample_kernel_sizes=(16, 16, 4, 4),
               resblock="1", resblock_kernel_sizes=(3, 7, 11), resblock_dilation_sizes=((1, 3, 5),) * 3),
    "v2": dict(upsample_initial_channel=128, upsample_rates=(8, 8, 2, 2), upsample_kernel_sizes=(16, 16, 4, 4),
               resblock="1", resblock_kernel_sizes=(3, 7, 11), resblock_dilation_sizes=((1, 3, 5),) * 3),
    "v3": dict(upsample_initial_channel=256, upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8),
               resblock="2", resblock_kernel_sizes=(3, 5, 7), resblock_dilation_sizes=((1, 2), (2, 6), (3, 12))),
}


def _conv(channels, kernel_size, dilation):
    """A 'same'-length weight-normed conv with N(0, 0.01) weights (the authors' init)."""
    conv = nn.Conv1d(channels, channels, kernel_size, dilation=dilation, padding=dilation * (kernel_size - 1) // 2)
    nn.init.normal_(conv.weight, 0.0, 0.01)
    return weight_norm(conv)


class ResBlock1(nn.Module):
    """x += conv_d1(lrelu(conv_d(lrelu(x)))) for each dilation d (V1/V2)."""

    def __init__(self, channels, kernel_size, dilations):
        super().__init__()
        self.convs1 = nn.ModuleList(_conv(channels, kernel_size, d) for d in dilations)
        self.convs2 = nn.ModuleList(_conv(channels, kernel_size, 1) for _ in dilations)

    def forward(self, x):
        for c1, c2 in zip(self.convs1, self.convs2):
            x = x + c2(nn.functional.leaky_relu(c1(nn.functional.leaky_relu(x, SLOPE)), SLOPE))
        return x


class ResBlock2(nn.Module):
    """x += conv_d(lrelu(x)) for each dilation d (V3)."""

    def __init__(self, channels, kernel_size, dilations):
        super().__init__()
        self.convs = nn.ModuleList(_conv(channels, kernel_size, d) for d in dilations)

    def forward(self, x):
        for conv in self.convs:
            x = x + conv(nn.functional.leaky_relu(x, SLOPE))
        return x


class HiFiGANGenerator(nn.Module):
    """Mel [B, in_channels, frames] -> wave [B, 1, frames * prod(upsample_rates)] in [-1, 1]."""

    def __init__(self, in_channels=80, upsample_initial_channel=512, upsample_rates=(8, 8, 2, 2),
                 upsample_kernel_sizes=(16, 16, 4, 4), resblock="1", resblock_kernel_sizes=(3, 7, 11),
                 resblock_dilation_sizes=((1, 3, 5),) * 3):
        super().__init__()
        if resblock not in ("1", "2"):
            raise ConfigError(f"generator resblock {resblock!r}: expected '1' (V1/V2) or '2' (V3)")
        if len(upsample_rates) != len(upsample_kernel_sizes):
            raise ConfigError(f"generator upsample_rates {list(upsample_rates)} and upsample_kernel_sizes "
                              f"{list(upsample_kernel_sizes)} must have the same length")
        for u, k in zip(upsample_rates, upsample_kernel_sizes):
            if k < u or (k - u) % 2:
                raise ConfigError(f"generator upsample kernel {k} for rate {u}: need kernel >= rate with an even "
                                  f"difference, so each stage multiplies the length exactly by its rate")
        if len(resblock_kernel_sizes) != len(resblock_dilation_sizes):
            raise ConfigError("generator resblock_kernel_sizes and resblock_dilation_sizes must have the same length")
        if upsample_initial_channel % 2 ** len(upsample_rates):
            raise ConfigError(f"generator upsample_initial_channel {upsample_initial_channel} must be divisible by "
                              f"2 ** {len(upsample_rates)} (channels halve at each upsampling)")
        self.hop_length = math.prod(upsample_rates)
        self.in_channels = in_channels
        block = ResBlock1 if resblock == "1" else ResBlock2
        self.conv_pre = weight_norm(nn.Conv1d(in_channels, upsample_initial_channel, 7, padding=3))
        self.ups, self.resblocks = nn.ModuleList(), nn.ModuleList()
        channels = upsample_initial_channel
        for u, k in zip(upsample_rates, upsample_kernel_sizes):
            up = nn.ConvTranspose1d(channels, channels // 2, k, u, padding=(k - u) // 2)
            nn.init.normal_(up.weight, 0.0, 0.01)
            self.ups.append(weight_norm(up))
            channels //= 2
            self.resblocks.append(nn.ModuleList(
                block(channels, k_r, d) for k_r, d in zip(resblock_kernel_sizes, resblock_dilation_sizes)))
        post = nn.Conv1d(channels, 1, 7, padding=3)
        nn.init.normal_(post.weight, 0.0, 0.01)
        self.conv_post = weight_norm(post)

    def forward(self, mel):
        x = self.conv_pre(mel)
        for up, blocks in zip(self.ups, self.resblocks):
            x = up(nn.functional.leaky_relu(x, SLOPE))
            x = sum(block(x) for block in blocks) / len(blocks)
        return torch.tanh(self.conv_post(nn.functional.leaky_relu(x, 0.01)))

    @torch.no_grad()
    def inference(self, mel):
        """Time-major log-mel [frames, n_mels] or [B, frames, n_mels] -> wave [frames * hop] or [B, ...]."""
        batch, single = mel_batch(mel, self.in_channels)
        wave = self(batch.transpose(1, 2)).squeeze(1)
        return wave[0] if single else wave

    def remove_weight_norm(self):
        """Fold weight norm into plain conv weights (same outputs, fewer parameters, faster)."""
        for module in self.modules():
            if parametrize.is_parametrized(module, "weight"):
                parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)


def generator_config(generator="v1", overrides=None):
    """HiFiGANGenerator keyword arguments: `generator` is a HIFIGAN_CONFIGS name or a mapping of those
    arguments (unset ones from V1); `overrides` update either. Unknown keys are a ConfigError."""
    if isinstance(generator, str) and generator not in HIFIGAN_CONFIGS:
        raise ConfigError(f"generator {generator!r}: expected one of {sorted(HIFIGAN_CONFIGS)} or a mapping")
    named = isinstance(generator, str)
    conf = dict(HIFIGAN_CONFIGS[generator if named else "v1"])
    accepted = {*conf, "in_channels"}
    for what, values in (("generator", {} if named else generator), ("generator_conf", overrides or {})):
        unknown = sorted(set(values) - accepted)
        if unknown:
            raise ConfigError(f"{what}: unknown keys {unknown}; accepted: {sorted(accepted)}")
        conf.update(values)
    return conf


def mel_batch(mel, n_mels):
    """A time-major mel as [B, frames, n_mels] and whether it was a single [frames, n_mels] one."""
    if mel.dim() not in (2, 3) or mel.shape[-1] != n_mels:
        raise DataError(f"vocoder input: expected a time-major log-mel [frames, {n_mels}] or [batch, frames, "
                        f"{n_mels}], got shape {list(mel.shape)}; extract it with the vocoder's mel settings")
    return (mel[None], True) if mel.dim() == 2 else (mel, False)
