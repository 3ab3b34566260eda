"""Speech encoders: Conv2d subsampling, positional encoding, a stack of layers.

Config keys follow ESPnet's ConformerEncoder / TransformerEncoder, plus
input_layer_channels: the conv channels of the subsampling (default output_size, as
ESPnet). Activation checkpointing (recompute each layer in backward) trades compute
for memory.
"""
import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from toolkit.layers.conformer import ConformerLayer
from toolkit.layers.masks import valid_mask
from toolkit.layers.positional import PositionalEncoding, RelPositionalEncoding
from toolkit.layers.subsampling import build_input_layer
from toolkit.utils.errors import ConfigError, DataError

POS_ENC = {"rel_pos": RelPositionalEncoding, "abs_pos": PositionalEncoding}


class ConformerEncoder(nn.Module):
    """`forward(feats [batch, T, input_size], lengths) -> (out [batch, T', output_size], lengths')`."""

    def __init__(self, input_size, output_size=256, attention_heads=4, linear_units=2048, num_blocks=6,
                 dropout_rate=0.1, positional_dropout_rate=0.1, attention_dropout_rate=0.0, input_layer="conv2d",
                 input_layer_channels=None, normalize_before=True, macaron_style=True, use_cnn_module=True,
                 cnn_module_kernel=31, cnn_module_norm="batch_norm", pos_enc_layer_type="rel_pos",
                 activation_type="swish"):
        super().__init__()
        if pos_enc_layer_type not in POS_ENC:
            raise ConfigError(f"pos_enc_layer_type {pos_enc_layer_type!r}: expected one of {', '.join(POS_ENC)}")
        self.embed = build_input_layer(input_size, output_size, input_layer, input_layer_channels)
        self.pos_enc = POS_ENC[pos_enc_layer_type](output_size, positional_dropout_rate)
        self.encoders = nn.ModuleList(
            ConformerLayer(output_size, attention_heads, linear_units, dropout_rate, attention_dropout_rate,
                           rel_pos=pos_enc_layer_type == "rel_pos", macaron_style=macaron_style,
                           use_cnn_module=use_cnn_module, cnn_module_kernel=cnn_module_kernel,
                           cnn_module_norm=cnn_module_norm, normalize_before=normalize_before,
                           activation_type=activation_type)
            for _ in range(num_blocks))
        self.after_norm = nn.LayerNorm(output_size) if normalize_before else nn.Identity()
        self.output_size = output_size
        self.activation_checkpointing = False

    def forward(self, feats, lengths):
        if int(lengths.min()) < self.embed.min_length:
            raise DataError(f"an utterance of {int(lengths.min())} frames is too short for the encoder's "
                            f"subsampling (needs >= {self.embed.min_length}); drop such utterances with "
                            f"--min_length {self.embed.min_length}")
        x, lengths = self.embed(feats, lengths)
        x, pos_emb = self.pos_enc(x)
        mask = valid_mask(lengths, x.shape[1]).unsqueeze(1)
        for layer in self.encoders:
            if self.activation_checkpointing and self.training and torch.is_grad_enabled():
                x = checkpoint(layer, x, pos_emb, mask, use_reentrant=False)
            else:
                x = layer(x, pos_emb, mask)
        return self.after_norm(x), lengths


class TransformerEncoder(ConformerEncoder):
    """ESPnet's Transformer encoder: absolute positions; layers x + MHSA, x + FFN (ReLU)."""

    def __init__(self, input_size, output_size=256, attention_heads=4, linear_units=2048, num_blocks=6,
                 dropout_rate=0.1, positional_dropout_rate=0.1, attention_dropout_rate=0.0, input_layer="conv2d",
                 input_layer_channels=None, normalize_before=True, pos_enc_layer_type="abs_pos",
                 activation_type="relu"):
        super().__init__(input_size, output_size, attention_heads, linear_units, num_blocks, dropout_rate,
                         positional_dropout_rate, attention_dropout_rate, input_layer, input_layer_channels,
                         normalize_before, macaron_style=False, use_cnn_module=False,
                         pos_enc_layer_type=pos_enc_layer_type, activation_type=activation_type)


ENCODERS = {"conformer": ConformerEncoder, "transformer": TransformerEncoder}
