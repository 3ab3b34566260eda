"""MossFormer2 (Zhao et al., 2024): time-domain masking separator, ClearerVoice-Studio compatible.

    mixture -> Conv1d encoder (kernel K, hop K/2, ReLU) -> mask net -> masks * encoding
            -> ConvTranspose1d decoder per speaker -> [batch, num_spks, samples]

Mask net: GroupNorm, 1x1 conv to the sequence dim, scaled sinusoidal positions, then
`num_mossformer_layer` pairs of (MossFormer gated-attention layer, gated dilated dense FSMN
block), LayerNorm, GroupNorm and a skip around the stack; PReLU, a 1x1 conv to num_spks
streams, a tanh * sigmoid gated output, a 1x1 conv back to the encoder dim and ReLU masks.

Parameter and buffer names equal those of ClearerVoice-Studio's network (its `MossFormer`
module), so the released MossFormer2_SS_16K / _8K state dicts load as they are
(toolkit.bin.import_clearvoice). The decoder reads the encoder dim; ClearerVoice sizes it
by the sequence dim, which only runs when the two are equal, as in the released models.
"""
from torch import nn
from torch.nn import functional as F

from toolkit.models.sep.fsmn import GatedFsmnBlock
from toolkit.models.sep.mossformer2_blocks import GatedAttention, RotaryEmbedding, ScaledSinusoidalEmbedding
from toolkit.utils.errors import ConfigError


class WaveEncoder(nn.Module):
    """[batch, samples] -> ReLU(Conv1d) [batch, dim, frames]; no padding (trailing samples that
    fill no whole window are not encoded)."""

    def __init__(self, kernel_size, dim):
        super().__init__()
        self.conv1d = nn.Conv1d(1, dim, kernel_size, stride=kernel_size // 2, bias=False)

    def forward(self, mix):
        return F.relu(self.conv1d(mix.unsqueeze(1)))


class MossFormerLayers(nn.Module):
    """`depth` x (GatedAttention layer, then GatedFsmnBlock); one rotary table shared by all layers."""

    def __init__(self, dim, depth, group_size, query_key_dim, fsmn_inner_dim, fsmn_order, conv_kernel_size,
                 dropout):
        super().__init__()
        rotary = RotaryEmbedding(min(32, query_key_dim))
        self.fsmn = nn.ModuleList(GatedFsmnBlock(dim, fsmn_inner_dim, fsmn_order, dropout, conv_kernel_size)
                                  for _ in range(depth))
        self.layers = nn.ModuleList(GatedAttention(dim, rotary, group_size, query_key_dim, dropout, conv_kernel_size)
                                    for _ in range(depth))

    def forward(self, x):
        for attention, fsmn in zip(self.layers, self.fsmn):
            x = fsmn(attention(x))
        return x


class SequenceModel(nn.Module):
    """MossFormerLayers followed by LayerNorm (eps 1e-6); [batch, frames, dim]."""

    def __init__(self, dim, depth, **layer_conf):
        super().__init__()
        self.mossformerM = MossFormerLayers(dim, depth, **layer_conf)
        self.norm = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, x):
        return self.norm(self.mossformerM(x))


class ComputationBlock(nn.Module):
    """x + GroupNorm(SequenceModel(x)) on [batch, dim, frames]."""

    def __init__(self, dim, depth, **layer_conf):
        super().__init__()
        self.intra_mdl = SequenceModel(dim, depth, **layer_conf)
        self.intra_norm = nn.GroupNorm(1, dim, eps=1e-8)

    def forward(self, x):
        return x + self.intra_norm(self.intra_mdl(x.transpose(1, 2)).transpose(1, 2))


class MaskNet(nn.Module):
    """Encoding [batch, enc_dim, frames] -> ReLU masks [batch, num_spks, enc_dim, frames]."""

    def __init__(self, enc_dim, dim, depth, num_spks, **layer_conf):
        super().__init__()
        self.num_spks = num_spks
        self.norm = nn.GroupNorm(1, enc_dim, eps=1e-8)
        self.conv1d_encoder = nn.Conv1d(enc_dim, dim, 1, bias=False)
        self.pos_enc = ScaledSinusoidalEmbedding(dim)
        self.mdl = ComputationBlock(dim, depth, **layer_conf)
        self.prelu = nn.PReLU()
        self.conv1d_out = nn.Conv1d(dim, dim * num_spks, 1)
        self.output = nn.Sequential(nn.Conv1d(dim, dim, 1), nn.Tanh())
        self.output_gate = nn.Sequential(nn.Conv1d(dim, dim, 1), nn.Sigmoid())
        self.conv1_decoder = nn.Conv1d(dim, enc_dim, 1, bias=False)

    def forward(self, x):
        batch, frames = x.shape[0], x.shape[-1]
        x = self.conv1d_encoder(self.norm(x))
        x = x + self.pos_enc(frames, x.device).transpose(0, 1)
        x = self.conv1d_out(self.prelu(self.mdl(x)))
        x = x.reshape(batch * self.num_spks, -1, frames)
        x = self.conv1_decoder(self.output(x) * self.output_gate(x))
        return F.relu(x).reshape(batch, self.num_spks, -1, frames)


class MossFormer2(nn.Module):
    """MossFormer2 separator: forward(mix [batch, samples]) -> [batch, num_spks, samples].

    Defaults are the released MossFormer2_SS_16K / _8K network (55.7 M parameters). Knobs
    beyond ClearerVoice's config: group_size (frames per local-attention chunk),
    query_key_dim, fsmn_inner_dim (FSMN bottleneck width), fsmn_order (memory kernel
    2 * order - 1), conv_kernel_size (depthwise convs in the projections), dropout.
    """

    def __init__(self, num_spks=2, encoder_kernel_size=16, encoder_embedding_dim=512, mossformer_sequence_dim=512,
                 num_mossformer_layer=24, group_size=256, query_key_dim=128, fsmn_inner_dim=256, fsmn_order=20,
                 conv_kernel_size=17, dropout=0.1):
        super().__init__()
        if encoder_kernel_size < 2:
            raise ConfigError(f"encoder_kernel_size {encoder_kernel_size}: must be >= 2 (hop is kernel // 2)")
        for name, value in (("mossformer_sequence_dim", mossformer_sequence_dim), ("query_key_dim", query_key_dim)):
            if value < 2 or value % 2:
                raise ConfigError(f"{name} {value}: must be even (sinusoidal / rotary positions pair channels)")
        if conv_kernel_size % 2 != 1:
            raise ConfigError(f"conv_kernel_size {conv_kernel_size}: must be odd ('same' padding)")
        self.num_spks, self.kernel_size = num_spks, encoder_kernel_size
        self.enc = WaveEncoder(encoder_kernel_size, encoder_embedding_dim)
        self.mask_net = MaskNet(encoder_embedding_dim, mossformer_sequence_dim, num_mossformer_layer, num_spks,
                                group_size=group_size, query_key_dim=query_key_dim, fsmn_inner_dim=fsmn_inner_dim,
                                fsmn_order=fsmn_order, conv_kernel_size=conv_kernel_size, dropout=dropout)
        self.dec = nn.ConvTranspose1d(encoder_embedding_dim, 1, encoder_kernel_size, stride=encoder_kernel_size // 2,
                                      bias=False)

    def forward(self, mix):
        if mix.dim() != 2 or mix.shape[-1] < self.kernel_size:
            raise ValueError(f"expected a mixture [batch, samples >= {self.kernel_size}], got {tuple(mix.shape)}")
        batch, samples = mix.shape
        enc = self.enc(mix)
        sep = (enc.unsqueeze(1) * self.mask_net(enc)).flatten(0, 1)
        wav = self.dec(sep).reshape(batch, self.num_spks, -1)
        return F.pad(wav, (0, samples - wav.shape[-1])) if wav.shape[-1] < samples else wav[..., :samples]
