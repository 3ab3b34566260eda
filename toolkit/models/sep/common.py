"""Pieces shared by the time-domain separators: learned encoder/decoder and normalisations.

The encoder frames the waveform with a window of `kernel` samples and a hop of kernel // 2
(50 % overlap, as in TasNet). The signal gets `hop` zeros at the start and `hop` plus a few
at the end so that every sample is covered by two windows and the frames fit exactly; the
decoder overlap-adds and cuts the output back to the input's length.
"""
import torch
from torch import nn

from toolkit.utils.errors import ConfigError

MASK_ACTIVATIONS = ("sigmoid", "relu", "softmax")


def frame_padding(samples, kernel, hop):
    """(left, right) zeros that make `samples` fit whole frames of `kernel` with step `hop`."""
    total = samples + 2 * hop
    extra = kernel - total if total < kernel else (-(total - kernel)) % hop
    return hop, hop + extra


class Encoder(nn.Module):
    """[batch, samples] -> [batch, dim, frames]: a bias-free Conv1d with 50 % window overlap."""

    def __init__(self, kernel, dim):
        super().__init__()
        if kernel < 2:
            raise ConfigError(f"enc_kernel {kernel}: the encoder window must be at least 2 samples")
        self.kernel, self.hop = kernel, kernel // 2
        self.conv = nn.Conv1d(1, dim, kernel, stride=self.hop, bias=False)

    def forward(self, mix):
        if mix.dim() != 2:
            raise ValueError(f"expected a mixture [batch, samples], got shape {tuple(mix.shape)}")
        padded = nn.functional.pad(mix, frame_padding(mix.shape[-1], self.kernel, self.hop))
        return self.conv(padded.unsqueeze(1))


class Decoder(nn.Module):
    """[..., dim, frames] -> [..., samples]: overlap-add of learned bases, cut to `samples`."""

    def __init__(self, kernel, dim):
        super().__init__()
        self.hop = kernel // 2
        self.deconv = nn.ConvTranspose1d(dim, 1, kernel, stride=self.hop, bias=False)

    def forward(self, feats, samples):
        lead = feats.shape[:-2]
        wav = self.deconv(feats.reshape(-1, *feats.shape[-2:]))
        return wav[..., 0, self.hop:self.hop + samples].reshape(*lead, samples)


def global_layer_norm(channels):
    """gLN: mean and variance over channels and time of each utterance, per-channel gain/bias."""
    return nn.GroupNorm(1, channels, eps=1e-8)


class CumulativeLayerNorm(nn.Module):
    """cLN: at frame t, mean and variance over channels and frames 0..t (causal); [batch, C, T]."""

    def __init__(self, channels, eps=1e-8):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        channels, frames = x.shape[1], x.shape[2]
        count = torch.arange(1, frames + 1, device=x.device, dtype=x.dtype) * channels
        mean = x.sum(1, keepdim=True).cumsum(-1) / count
        power = x.pow(2).sum(1, keepdim=True).cumsum(-1) / count
        var = (power - mean.pow(2)).clamp(min=0)
        x = (x - mean) / (var + self.eps).sqrt()
        return x * self.weight[:, None] + self.bias[:, None]


NORMS = {"gLN": global_layer_norm, "cLN": CumulativeLayerNorm, "BN": nn.BatchNorm1d}


def build_norm(name, channels, causal):
    """The normalisation `name` over [batch, channels, frames]; gLN looks ahead, so not when causal."""
    if name not in NORMS:
        raise ConfigError(f"norm {name!r}: expected one of {sorted(NORMS)}")
    if causal and name == "gLN":
        raise ConfigError("norm 'gLN' uses statistics of the whole utterance: with causal=True use 'cLN' or 'BN'")
    return NORMS[name](channels)


def check_mask_activation(name):
    if name not in MASK_ACTIVATIONS:
        raise ConfigError(f"mask_act {name!r}: expected one of {list(MASK_ACTIVATIONS)}")


def apply_mask_activation(name, scores):
    """Masks from scores [batch, num_spks, dim, frames]; softmax competes across speakers."""
    if name == "sigmoid":
        return torch.sigmoid(scores)
    if name == "relu":
        return torch.relu(scores)
    return torch.softmax(scores, dim=1)
