"""Feed-Forward Transformer (FFT) blocks of FastSpeech (Ren et al. 2019), the encoder and decoder of
FastSpeech 2: self-attention plus a position-wise *convolutional* feed-forward network. The
conformer form (ESPnet's conformer FastSpeech 2) adds a macaron half-FFN and the convolution
module, with relative-position attention.

Pre-norm residual sub-layers as toolkit.layers.conformer.ConformerLayer; padded positions are
zeroed before every convolution, so a padded batch gives each utterance what it gets alone.
"""
from torch import nn

from toolkit.layers.attention import MultiHeadedAttention, RelPositionMultiHeadedAttention
from toolkit.layers.conformer import ConvolutionModule
from toolkit.layers.feed_forward import activation
from toolkit.layers.masks import valid_mask
from toolkit.layers.positional import PositionalEncoding, RelPositionalEncoding
from toolkit.layers.residual import residual
from toolkit.utils.errors import ConfigError

BLOCK_TYPES = ("transformer", "conformer")


class ConvFeedForward(nn.Module):
    """conv(k1) -> activation -> dropout -> conv(k2), size -> hidden_units -> size along time.

    kernel_sizes (9, 1) is FastSpeech's; (3, 3) is ESPnet's MultiLayeredConv1d setting.
    `forward(x [B, T, size], mask [B, 1, T]) -> [B, T, size]`.
    """

    def __init__(self, size, hidden_units, kernel_sizes=(9, 1), dropout_rate=0.0, activation_type="relu"):
        super().__init__()
        kernel_sizes = tuple(kernel_sizes)
        if len(kernel_sizes) != 2 or any(k % 2 == 0 for k in kernel_sizes):
            raise ConfigError(f"ffn_kernel_sizes must be two odd kernel sizes ('same' padding), got {kernel_sizes}")
        self.w_1 = nn.Conv1d(size, hidden_units, kernel_sizes[0], padding=kernel_sizes[0] // 2)
        self.activation = activation(activation_type)
        self.dropout = nn.Dropout(dropout_rate)
        self.w_2 = nn.Conv1d(hidden_units, size, kernel_sizes[1], padding=kernel_sizes[1] // 2)

    def forward(self, x, mask):
        x = self.w_1(x.transpose(1, 2).masked_fill(~mask, 0.0))
        x = self.w_2(self.dropout(self.activation(x)).masked_fill(~mask, 0.0))
        return x.transpose(1, 2)


class FFTBlock(nn.Module):
    """x + MHSA(x), x + ConvFFN(x); conformer: x + 1/2 ConvFFN, x + MHSA, x + Conv, x + 1/2 ConvFFN, LayerNorm.

    `forward(x [B, T, size], pos_emb, mask [B, 1, T]) -> x`; pos_emb is used by the
    conformer's relative-position attention only.
    """

    def __init__(self, size, attention_heads=2, linear_units=1024, kernel_sizes=(9, 1), dropout_rate=0.1,
                 attention_dropout_rate=0.1, conformer=False, cnn_module_kernel=7):
        super().__init__()
        act = "swish" if conformer else "relu"
        self.conformer = conformer
        attention = RelPositionMultiHeadedAttention if conformer else MultiHeadedAttention
        self.self_attn = attention(attention_heads, size, attention_dropout_rate)
        self.norm_mha = nn.LayerNorm(size)
        self.feed_forward = ConvFeedForward(size, linear_units, kernel_sizes, dropout_rate, act)
        self.norm_ff = nn.LayerNorm(size)
        self.dropout = nn.Dropout(dropout_rate)
        if conformer:
            self.feed_forward_macaron = ConvFeedForward(size, linear_units, kernel_sizes, dropout_rate, act)
            self.norm_ff_macaron = nn.LayerNorm(size)
            self.conv_module = ConvolutionModule(size, cnn_module_kernel)
            self.norm_conv = nn.LayerNorm(size)
            self.norm_final = nn.LayerNorm(size)

    def _sublayer(self, x, fn, norm, scale=1.0):
        return residual(x, fn, norm, self.dropout, True, scale)

    def forward(self, x, pos_emb, mask):
        if not self.conformer:
            x = self._sublayer(x, lambda y: self.self_attn(y, y, y, mask), self.norm_mha)
            return self._sublayer(x, lambda y: self.feed_forward(y, mask), self.norm_ff)
        x = self._sublayer(x, lambda y: self.feed_forward_macaron(y, mask), self.norm_ff_macaron, 0.5)
        x = self._sublayer(x, lambda y: self.self_attn(y, y, y, pos_emb, mask), self.norm_mha)
        x = self._sublayer(x, lambda y: self.conv_module(y, mask), self.norm_conv)
        x = self._sublayer(x, lambda y: self.feed_forward(y, mask), self.norm_ff, 0.5)
        return self.norm_final(x)


class FFTStack(nn.Module):
    """Sinusoidal positions, `num_blocks` FFT blocks, a final LayerNorm.

    `forward(x [B, T, size], lengths [B]) -> [B, T, size]` with padded positions zeroed.
    Inputs are unit-scale (token embeddings, layer-normed states), so the positional
    encoding adds its table without the sqrt(size) input scale of the ASR encoders.
    """

    def __init__(self, size, num_blocks=4, attention_heads=2, linear_units=1024, kernel_sizes=(9, 1),
                 dropout_rate=0.1, positional_dropout_rate=0.1, attention_dropout_rate=0.1,
                 block_type="transformer", cnn_module_kernel=7):
        super().__init__()
        if block_type not in BLOCK_TYPES:
            raise ConfigError(f"FastSpeech2 block type {block_type!r}: expected one of {', '.join(BLOCK_TYPES)}")
        conformer = block_type == "conformer"
        self.pos_enc = (RelPositionalEncoding if conformer else PositionalEncoding)(size, positional_dropout_rate)
        self.pos_enc.xscale = 1.0
        self.blocks = nn.ModuleList(
            FFTBlock(size, attention_heads, linear_units, kernel_sizes, dropout_rate, attention_dropout_rate,
                     conformer, cnn_module_kernel)
            for _ in range(num_blocks))
        self.after_norm = nn.LayerNorm(size)

    def forward(self, x, lengths):
        mask = valid_mask(lengths, x.shape[1]).unsqueeze(1)
        x, pos_emb = self.pos_enc(x)
        for block in self.blocks:
            x = block(x, pos_emb, mask)
        return self.after_norm(x).masked_fill(~mask.transpose(1, 2), 0.0)
