"""Transformer attention decoder (ESPnet's TransformerDecoder) with incremental decoding."""
import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from toolkit.layers.masks import causal_mask, valid_mask
from toolkit.layers.positional import PositionalEncoding
from toolkit.layers.transformer import TransformerDecoderLayer


class TransformerDecoder(nn.Module):
    """Token embedding + absolute positions, `num_blocks` decoder layers, LayerNorm, output projection."""

    def __init__(self, vocab_size, encoder_output_size, attention_heads=4, linear_units=2048, num_blocks=6,
                 dropout_rate=0.1, positional_dropout_rate=0.1, self_attention_dropout_rate=0.0,
                 src_attention_dropout_rate=0.0, normalize_before=True):
        super().__init__()
        size = encoder_output_size
        self.embed = nn.Embedding(vocab_size, size)
        self.pos_enc = PositionalEncoding(size, positional_dropout_rate)
        self.decoders = nn.ModuleList(
            TransformerDecoderLayer(size, attention_heads, linear_units, dropout_rate, self_attention_dropout_rate,
                                    src_attention_dropout_rate, normalize_before)
            for _ in range(num_blocks))
        self.after_norm = nn.LayerNorm(size) if normalize_before else nn.Identity()
        self.output_layer = nn.Linear(size, vocab_size)
        self.activation_checkpointing = False

    def forward(self, memory, memory_lens, ys_in, ys_in_lens):
        """Logits [batch, L, vocab] for input tokens ys_in [batch, L] (sos + text) over memory [batch, T, size]."""
        length = ys_in.shape[1]
        tgt_mask = valid_mask(ys_in_lens, length).unsqueeze(1) & causal_mask(length, ys_in.device)
        memory_mask = valid_mask(memory_lens, memory.shape[1]).unsqueeze(1)
        x, _ = self.pos_enc(self.embed(ys_in))
        for layer in self.decoders:
            if self.activation_checkpointing and self.training and torch.is_grad_enabled():
                x = checkpoint(layer, x, tgt_mask, memory, memory_mask, use_reentrant=False)
            else:
                x = layer(x, tgt_mask, memory, memory_mask)
        return self.output_layer(self.after_norm(x))

    def forward_one_step(self, tokens, memory, memory_mask=None, cache=None):
        """Next-token log-probs [batch, vocab] after prefixes tokens [batch, L] (all of length L).

        memory_mask [batch, 1, T] bool or None. `cache` is the list returned by the
        previous call (prefixes one shorter), or None; returns (log_probs, new cache).
        """
        tgt_mask = causal_mask(tokens.shape[1], tokens.device).unsqueeze(0)
        x, _ = self.pos_enc(self.embed(tokens))
        new_cache = []
        for i, layer in enumerate(self.decoders):
            x = layer(x, tgt_mask, memory, memory_mask, None if cache is None else cache[i])
            new_cache.append(x)
        logits = self.output_layer(self.after_norm(x[:, -1]))
        return torch.log_softmax(logits.float(), dim=-1), new_cache
