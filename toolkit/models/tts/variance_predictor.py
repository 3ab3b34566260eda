"""Variance predictor of FastSpeech 2 (Ren et al. 2021), shared by duration, pitch and energy."""
from torch import nn

from toolkit.utils.errors import ConfigError


class VariancePredictor(nn.Module):
    """(Conv1d -> ReLU -> LayerNorm -> dropout) x n_layers, then a linear map to one value per token.

    `forward(xs [B, L, idim], mask [B, 1, L] bool) -> [B, L]`; padded tokens are zeroed
    before every convolution and in the output, so they never change real tokens.
    """

    def __init__(self, idim, n_layers=2, n_chans=256, kernel_size=3, dropout_rate=0.5):
        super().__init__()
        if kernel_size % 2 == 0:
            raise ConfigError(f"variance predictor kernel_size must be odd for 'same' padding, got {kernel_size}")
        self.convs = nn.ModuleList(
            nn.Conv1d(idim if i == 0 else n_chans, n_chans, kernel_size, padding=kernel_size // 2)
            for i in range(n_layers))
        self.norms = nn.ModuleList(nn.LayerNorm(n_chans) for _ in range(n_layers))
        self.dropout = nn.Dropout(dropout_rate)
        self.linear = nn.Linear(n_chans, 1)

    def forward(self, xs, mask):
        x = xs.transpose(1, 2)  # [B, C, L]
        for conv, norm in zip(self.convs, self.norms):
            x = conv(x.masked_fill(~mask, 0.0)).relu()
            x = self.dropout(norm(x.transpose(1, 2))).transpose(1, 2)
        return self.linear(x.transpose(1, 2)).squeeze(-1).masked_fill(~mask.squeeze(1), 0.0)
