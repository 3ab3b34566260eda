"""Conv-TasNet (Luo & Mesgarani 2019): learned encoder, TCN mask estimator, learned decoder.

Defaults are the paper's best non-causal system: N=512 filters of L=16 samples, B=Sc=128,
H=512, P=3, X=8 blocks per stack, R=3 stacks, gLN, sigmoid masks (4.98 M parameters; the
paper's 5.1 M counts an unused residual 1x1 conv on the last block, left out here).
With skip == bottleneck, gLN and causal=False the network equals torchaudio.models.ConvTasNet;
`from_torchaudio_state_dict` maps its weights onto ours.
"""
import re

from torch import nn

from toolkit.models.sep.common import (Decoder, Encoder, apply_mask_activation, build_norm,
                                       check_mask_activation)
from toolkit.utils.errors import ConfigError


class TCNBlock(nn.Module):
    """1x1 conv -> PReLU -> norm -> dilated depthwise conv -> PReLU -> norm -> residual / skip 1x1 convs.

    Returns (residual or None, skip or None): residual=False / skip_dim=0 drop that output conv.
    """

    def __init__(self, io_dim, hidden, skip_dim, kernel, dilation, norm, causal, residual=True):
        super().__init__()
        self.conv_in = nn.Conv1d(io_dim, hidden, 1)
        self.prelu1 = nn.PReLU()
        self.norm1 = build_norm(norm, hidden, causal)
        span = (kernel - 1) * dilation
        left = span if causal else span // 2
        self.pad = None if left == span - left else (left, span - left)
        self.dconv = nn.Conv1d(hidden, hidden, kernel, dilation=dilation, groups=hidden,
                               padding=left if self.pad is None else 0)
        self.prelu2 = nn.PReLU()
        self.norm2 = build_norm(norm, hidden, causal)
        self.res_out = nn.Conv1d(hidden, io_dim, 1) if residual else None
        self.skip_out = nn.Conv1d(hidden, skip_dim, 1) if skip_dim else None

    def forward(self, x):
        y = self.norm1(self.prelu1(self.conv_in(x)))
        if self.pad is not None:
            y = nn.functional.pad(y, self.pad)
        y = self.norm2(self.prelu2(self.dconv(y)))
        residual = self.res_out(y) if self.res_out is not None else None
        skip = self.skip_out(y) if self.skip_out is not None else None
        return residual, skip


class TCNSeparator(nn.Module):
    """[batch, N, frames] encoder output -> mask scores [batch, num_spks, N, frames]."""

    def __init__(self, enc_dim, num_spks, bottleneck, hidden, skip, kernel, layers, stacks, norm, causal):
        super().__init__()
        self.num_spks, self.use_skip = num_spks, bool(skip)
        self.norm = build_norm(norm, enc_dim, causal)
        self.bottleneck = nn.Conv1d(enc_dim, bottleneck, 1)
        last = layers * stacks - 1
        # with skip connections the last block's residual output is never used; without them it is the output
        self.blocks = nn.ModuleList(
            TCNBlock(bottleneck, hidden, skip, kernel, 2 ** (i % layers), norm, causal,
                     residual=not (skip and i == last))
            for i in range(layers * stacks))
        self.output_prelu = nn.PReLU()
        self.mask_conv = nn.Conv1d(skip or bottleneck, enc_dim * num_spks, 1)

    def forward(self, feats):
        x = self.bottleneck(self.norm(feats))
        skip_sum = 0.0
        for block in self.blocks:
            residual, skip = block(x)
            if residual is not None:
                x = x + residual
            if skip is not None:
                skip_sum = skip_sum + skip
        out = self.mask_conv(self.output_prelu(skip_sum if self.use_skip else x))
        return out.view(out.shape[0], self.num_spks, -1, out.shape[-1])


class ConvTasNet(nn.Module):
    """Mixture [batch, samples] -> sources [batch, num_spks, samples].

    enc_kernel/enc_dim: encoder window L and filters N; bottleneck B; hidden H; skip Sc
    (0: no skip paths, the masks come from the residual path); kernel P; layers X; stacks R;
    norm "gLN" | "cLN" | "BN"; causal: left-only padding (needs cLN or BN);
    mask_act "sigmoid" | "relu" | "softmax".
    """

    def __init__(self, num_spks=2, enc_kernel=16, enc_dim=512, bottleneck=128, hidden=512, kernel=3, layers=8,
                 stacks=3, norm="gLN", causal=False, mask_act="sigmoid", skip=128):
        super().__init__()
        for key, value in (("num_spks", num_spks), ("enc_dim", enc_dim), ("bottleneck", bottleneck),
                           ("hidden", hidden), ("kernel", kernel), ("layers", layers), ("stacks", stacks)):
            if value < 1:
                raise ConfigError(f"ConvTasNet {key}={value}: must be a positive integer")
        if skip < 0:
            raise ConfigError(f"ConvTasNet skip={skip}: skip channels must be >= 0 (0 disables skip paths)")
        check_mask_activation(mask_act)
        self.num_spks, self.mask_act = num_spks, mask_act
        self.encoder = Encoder(enc_kernel, enc_dim)
        self.separator = TCNSeparator(enc_dim, num_spks, bottleneck, hidden, skip, kernel, layers, stacks, norm, causal)
        self.decoder = Decoder(enc_kernel, enc_dim)

    def forward(self, mix):
        feats = self.encoder(mix)
        masks = apply_mask_activation(self.mask_act, self.separator(feats))
        return self.decoder(masks * feats.unsqueeze(1), mix.shape[-1])


_TORCHAUDIO_KEYS = (
    (r"^encoder\.weight$", "encoder.conv.weight"),
    (r"^decoder\.weight$", "decoder.deconv.weight"),
    (r"^mask_generator\.input_norm\.", "separator.norm."),
    (r"^mask_generator\.input_conv\.", "separator.bottleneck."),
    (r"^mask_generator\.output_prelu\.", "separator.output_prelu."),
    (r"^mask_generator\.output_conv\.", "separator.mask_conv."),
    (r"^mask_generator\.conv_layers\.(\d+)\.conv_layers\.0\.", r"separator.blocks.\1.conv_in."),
    (r"^mask_generator\.conv_layers\.(\d+)\.conv_layers\.1\.", r"separator.blocks.\1.prelu1."),
    (r"^mask_generator\.conv_layers\.(\d+)\.conv_layers\.2\.", r"separator.blocks.\1.norm1."),
    (r"^mask_generator\.conv_layers\.(\d+)\.conv_layers\.3\.", r"separator.blocks.\1.dconv."),
    (r"^mask_generator\.conv_layers\.(\d+)\.conv_layers\.4\.", r"separator.blocks.\1.prelu2."),
    (r"^mask_generator\.conv_layers\.(\d+)\.conv_layers\.5\.", r"separator.blocks.\1.norm2."),
    (r"^mask_generator\.conv_layers\.(\d+)\.(res_out|skip_out)\.", r"separator.blocks.\1.\2."),
)


def from_torchaudio_state_dict(state_dict):
    """torchaudio.models.ConvTasNet weights renamed for ConvTasNet(skip=bottleneck, norm="gLN").

    Build ours with mask_act equal to torchaudio's msk_activate ("relu" in conv_tasnet_base).
    """
    renamed = {}
    for key, value in state_dict.items():
        for pattern, replacement in _TORCHAUDIO_KEYS:
            new_key, hits = re.subn(pattern, replacement, key)
            if hits:
                renamed[new_key] = value
                break
        else:
            raise ConfigError(f"torchaudio ConvTasNet state dict: unexpected key {key!r}")
    return renamed
