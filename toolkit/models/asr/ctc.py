"""CTC output head: a linear map from the encoder output to the vocabulary, its loss and greedy path."""
import torch.nn.functional as F
from torch import nn

from toolkit.losses.ctc import ctc_loss, uniform_smoothing_loss


class CTC(nn.Module):
    """`forward(hs, hs_lens, ys, ys_lens) -> loss`; blank is id 0.

    smoothing > 0 mixes in toolkit.losses.ctc.uniform_smoothing_loss:
    (1 - smoothing) * ctc + smoothing * uniform cross entropy of the frame posteriors.
    """

    def __init__(self, vocab_size, encoder_output_size, dropout_rate=0.0, smoothing=0.0):
        super().__init__()
        self.ctc_lo = nn.Linear(encoder_output_size, vocab_size)
        self.dropout = nn.Dropout(dropout_rate)
        self.smoothing = smoothing

    def log_softmax(self, hs):
        """Frame log-posteriors [batch, T, vocab] in float32."""
        return F.log_softmax(self.ctc_lo(hs).float(), dim=-1)

    def argmax(self, hs):
        """Best token per frame [batch, T] (greedy path, before collapsing repeats and blanks)."""
        return self.ctc_lo(hs).argmax(dim=-1)

    def forward(self, hs, hs_lens, ys, ys_lens):
        log_probs = self.log_softmax(self.dropout(hs))
        loss = ctc_loss(log_probs, hs_lens, ys, ys_lens)
        if self.smoothing > 0:
            loss = (1 - self.smoothing) * loss + self.smoothing * uniform_smoothing_loss(log_probs, hs_lens)
        return loss
