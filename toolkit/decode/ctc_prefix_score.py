"""CTC prefix scores for label-synchronous (attention) beam search, vectorised over hypotheses.

The joint CTC/attention decoding of Watanabe et al. (2017), with the semantics of ESPnet's
CTCPrefixScore. For a hypothesis h the state holds, for every frame t, the log probability
that frames 0..t collapse to h and end in a token (r_n) or in blank (r_b). The prefix score
psi(h + c) is the log of the summed probability of all label sequences that start with h + c;
psi(h + eos) is log p(h | x), the probability of exactly h.

Both recursions over frames are linear, so they are computed with cumulative sums in float64
(log-domain `cumsum` / `logcumsumexp`) instead of a loop over frames.
"""
from typing import NamedTuple

import torch

LOG_FLOOR = -1e3  # log probabilities are floored here so cumulative sums stay finite
MAX_ELEMENTS = 1 << 22  # hypotheses x candidates x frames scored at once


class CTCState(NamedTuple):
    """Per-hypothesis CTC state; every field has the hypotheses as its first dimension."""

    r_n: torch.Tensor     # [N, T] log P(frames 0..t -> h, last frame emits a token)
    r_b: torch.Tensor     # [N, T] log P(frames 0..t -> h, last frame is blank)
    last: torch.Tensor    # [N] last token of h (-1 for the empty prefix)
    prefix: torch.Tensor  # [N] psi(h)


class CTCPrefixScorer:
    """Prefix scores of one utterance's CTC output `log_probs` [T, V]."""

    def __init__(self, log_probs, blank=0, eos=None):
        self.x = torch.as_tensor(log_probs).detach().to(torch.float64).clamp(min=LOG_FLOOR)
        self.num_frames, self.vocab = self.x.shape
        self.blank = blank
        self.eos = self.vocab - 1 if eos is None else eos
        self.cum_blank = self.x[:, blank].cumsum(0)

    def initial_state(self):
        """State of the empty prefix (only <sos>)."""
        device = self.x.device
        return CTCState(torch.full((1, self.num_frames), -torch.inf, dtype=torch.float64, device=device),
                        self.cum_blank[None].clone(), torch.full((1,), -1, device=device),
                        torch.zeros(1, dtype=torch.float64, device=device))

    def score(self, state, tokens):
        """psi(h_n + tokens[n, k]) as [N, K] for candidate tokens [N, K] of each hypothesis."""
        tokens = tokens.to(self.x.device)
        phi_other, phi_same = self._phi(state)
        same = tokens == state.last[:, None]
        psi = torch.empty(tokens.shape, dtype=torch.float64, device=self.x.device)
        step = max(1, MAX_ELEMENTS // max(1, tokens.size(0) * self.num_frames))
        for k in range(0, tokens.size(1), step):
            part = tokens[:, k:k + step]
            phi = torch.where(same[:, k:k + step, None], phi_same[:, None], phi_other[:, None])
            psi[:, k:k + step] = torch.logsumexp(phi + self.x[:, part].permute(1, 2, 0), dim=-1)
        full = torch.logaddexp(state.r_n[:, -1], state.r_b[:, -1])
        psi = torch.where(tokens == self.eos, full[:, None], psi)
        return psi.masked_fill(tokens == self.blank, -torch.inf)

    def advance(self, state, source, tokens):
        """States of hypotheses state[source[m]] + tokens[m] (tokens other than eos and blank)."""
        source, tokens = source.to(self.x.device), tokens.to(self.x.device)
        phi_other, phi_same = self._phi(state)
        same = (tokens == state.last[source])[:, None]
        phi = torch.where(same, phi_same[source], phi_other[source])  # [M, T]: phi at frame t - 1
        x = self.x[:, tokens].T
        cum_x = x.cumsum(1)
        r_n = cum_x + torch.logcumsumexp(phi - _shift(cum_x, 0.0), dim=1)
        r_b = self.cum_blank + torch.logcumsumexp(_shift(r_n, -torch.inf) - _shift(self.cum_blank, 0.0), dim=1)
        return CTCState(r_n, r_b, tokens, torch.logsumexp(phi + x, dim=1))

    def _phi(self, state):
        """Log probability that frames 0..t-1 end a path ready for a new token, per frame t.

        Returns two [N, T] tensors: for a token other than h's last one (any ending) and
        for a repeat of h's last token (blank ending only). Frame -1 is "nothing consumed":
        possible only for the empty prefix.
        """
        start = torch.where(state.last < 0, 0.0, -torch.inf).to(torch.float64)[:, None]
        other = torch.cat([start, torch.logaddexp(state.r_n, state.r_b)[:, :-1]], dim=1)
        same = torch.cat([start, state.r_b[:, :-1]], dim=1)
        return other, same


def _shift(values, first):
    """values[..., t - 1] along the last dim, with `first` at t = 0."""
    pad = torch.full(values.shape[:-1] + (1,), first, dtype=values.dtype, device=values.device)
    return torch.cat([pad, values[..., :-1]], dim=-1)
