"""LSTM language model over token ids; `<sos/eos>` is the last id of the token list."""
import torch
import torch.nn.functional as F
from torch import nn


class RNNLM(nn.Module):
    """Embedding -> LSTM -> projection; trained on sos + text -> text + eos."""

    def __init__(self, vocab_size, embed_dim=128, hidden_dim=256, num_layers=2, dropout=0.1):
        super().__init__()
        self.vocab_size = vocab_size
        self.sos_eos = vocab_size - 1
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.dropout = nn.Dropout(dropout)
        self.rnn = nn.LSTM(embed_dim, hidden_dim, num_layers, batch_first=True,
                           dropout=dropout if num_layers > 1 else 0.0)
        self.output = nn.Linear(hidden_dim, vocab_size)

    def score(self, tokens, state=None):
        """Logits [batch, len, vocab] for input ids [batch, len] and the new LSTM state."""
        hidden, state = self.rnn(self.dropout(self.embed(tokens)), state)
        return self.output(self.dropout(hidden)), state

    def forward(self, text, text_lengths):
        """Return (loss, stats, weight): mean next-token cross entropy over real tokens."""
        batch = text.size(0)
        sos = torch.full((batch, 1), self.sos_eos, dtype=text.dtype, device=text.device)
        inputs = torch.cat([sos, text.clamp(min=0)], dim=1)
        targets = torch.cat([text, torch.full_like(sos, -1)], dim=1)
        targets[torch.arange(batch, device=text.device), text_lengths] = self.sos_eos
        logits, _ = self.score(inputs)
        loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-1)
        mask = targets != -1
        num_tokens = mask.sum()
        correct = ((logits.argmax(-1) == targets) & mask).sum()
        stats = {"loss": loss.item(), "acc": (correct / num_tokens).item()}  # perplexity = exp(mean loss)
        return loss, stats, num_tokens.float()
