"""DPRNN-TasNet (Luo, Chen & Yoshioka 2020): TasNet whose mask estimator is a dual-path RNN.

Encoder frames -> gLN -> 1x1 bottleneck -> chunks of `chunk` frames with 50 % overlap ->
`blocks` dual-path blocks (intra-chunk BLSTM, then inter-chunk BLSTM, each followed by a
linear projection, gLN and a residual add) -> PReLU + linear map to num_spks masks ->
overlap-add of the chunks -> mask activation -> masked encoder output -> decoder.
Defaults are the paper's best WSJ0-2mix system (18.8 dB SI-SNRi at 8 kHz): N=64 filters of
L=2 samples, K=250, 6 blocks, 128 hidden units per direction (2.60 M parameters). The mask
output has no gated layer; the authors name sigmoid or ReLU for it, ReLU being the better one.
"""
import torch
from torch import nn

from toolkit.models.sep.common import (Decoder, Encoder, apply_mask_activation, check_mask_activation,
                                       frame_padding, global_layer_norm)
from toolkit.utils.errors import ConfigError

RNNS = {"lstm": nn.LSTM, "gru": nn.GRU}


class LastDimGlobalNorm(nn.Module):
    """gLN for channels-last tensors [batch, ..., channels]: statistics over all but the batch axis."""

    def __init__(self, channels, eps=1e-8):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        return nn.functional.layer_norm(x, x.shape[1:], eps=self.eps) * self.weight + self.bias


class DualPathBlock(nn.Module):
    """[batch, chunks, chunk_len, dim] -> same shape: intra-chunk then inter-chunk bidirectional RNN."""

    def __init__(self, dim, hidden, rnn_type):
        super().__init__()
        rnn = RNNS[rnn_type]
        self.intra_rnn = rnn(dim, hidden, batch_first=True, bidirectional=True)
        self.intra_proj = nn.Linear(2 * hidden, dim)
        self.intra_norm = LastDimGlobalNorm(dim)
        self.inter_rnn = rnn(dim, hidden, batch_first=True, bidirectional=True)
        self.inter_proj = nn.Linear(2 * hidden, dim)
        self.inter_norm = LastDimGlobalNorm(dim)

    def forward(self, x):
        batch, chunks, length, dim = x.shape
        intra = self.intra_proj(self.intra_rnn(x.reshape(batch * chunks, length, dim))[0])
        x = x + self.intra_norm(intra.view(batch, chunks, length, dim))
        inter = x.transpose(1, 2).reshape(batch * length, chunks, dim)
        inter = self.inter_proj(self.inter_rnn(inter)[0]).view(batch, length, chunks, dim)
        return x + self.inter_norm(inter).transpose(1, 2)


def split_chunks(x, chunk, hop):
    """[batch, frames, dim] -> (chunks [batch, num_chunks, chunk, dim], left padding); hop = chunk // 2."""
    left, right = frame_padding(x.shape[1], chunk, hop)
    x = nn.functional.pad(x, (0, 0, left, right))
    return x.unfold(1, chunk, hop).transpose(2, 3), left


def overlap_add(chunks, hop, frames, left):
    """[batch, num_chunks, chunk, dim] -> [batch, dim, frames]: overlapping chunks summed, padding cut."""
    batch, num_chunks, chunk, dim = chunks.shape
    columns = chunks.permute(0, 3, 2, 1).reshape(batch, dim * chunk, num_chunks)
    out = nn.functional.fold(columns, (1, (num_chunks - 1) * hop + chunk), kernel_size=(1, chunk), stride=(1, hop))
    return out[:, :, 0, left:left + frames]


class DPRNN(nn.Module):
    """Mixture [batch, samples] -> sources [batch, num_spks, samples].

    enc_kernel/enc_dim: encoder window L and filters N; bottleneck: feature size inside the
    dual-path blocks; hidden: RNN units per direction; chunk: K frames (hop K // 2);
    blocks: dual-path blocks; rnn_type "lstm" | "gru"; mask_act "relu" | "sigmoid" | "softmax".
    """

    def __init__(self, num_spks=2, enc_kernel=2, enc_dim=64, bottleneck=64, hidden=128, chunk=250, blocks=6,
                 rnn_type="lstm", mask_act="relu"):
        super().__init__()
        for key, value in (("num_spks", num_spks), ("enc_dim", enc_dim), ("bottleneck", bottleneck),
                           ("hidden", hidden), ("blocks", blocks)):
            if value < 1:
                raise ConfigError(f"DPRNN {key}={value}: must be a positive integer")
        if chunk < 2 or chunk % 2:
            raise ConfigError(f"DPRNN chunk={chunk}: must be even and >= 2 (chunks overlap by half)")
        if rnn_type not in RNNS:
            raise ConfigError(f"DPRNN rnn_type {rnn_type!r}: expected one of {sorted(RNNS)}")
        check_mask_activation(mask_act)
        self.num_spks, self.enc_dim, self.mask_act = num_spks, enc_dim, mask_act
        self.chunk, self.hop = chunk, chunk // 2
        self.encoder = Encoder(enc_kernel, enc_dim)
        self.norm = global_layer_norm(enc_dim)
        self.bottleneck = nn.Conv1d(enc_dim, bottleneck, 1, bias=False)
        self.blocks = nn.ModuleList(DualPathBlock(bottleneck, hidden, rnn_type) for _ in range(blocks))
        self.output_prelu = nn.PReLU()
        self.output_proj = nn.Linear(bottleneck, num_spks * enc_dim)
        self.decoder = Decoder(enc_kernel, enc_dim)

    def forward(self, mix):
        feats = self.encoder(mix)  # [batch, N, frames]
        batch, frames = feats.shape[0], feats.shape[-1]
        x, left = split_chunks(self.bottleneck(self.norm(feats)).transpose(1, 2), self.chunk, self.hop)
        for block in self.blocks:
            x = block(x)  # [batch, chunks, K, B]
        scores = overlap_add(self.output_proj(self.output_prelu(x)), self.hop, frames, left)
        scores = scores.reshape(batch, self.num_spks, self.enc_dim, frames)
        masks = apply_mask_activation(self.mask_act, scores)
        return self.decoder(masks * feats.unsqueeze(1), mix.shape[-1])
