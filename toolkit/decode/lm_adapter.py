"""Adapters from language models to the `lm_step(tokens [N, L]) -> log_probs [N, V]` interface."""
import torch


class RNNLMStep:
    """`lm_step` for toolkit.models.lm.rnn_lm.RNNLM (put in eval mode here).

    LSTM states of the prefixes scored by the previous call are kept, so when every row of
    `tokens` extends one of them by one token (as in beam search) only that token is run;
    otherwise the whole prefix is recomputed.
    """

    def __init__(self, lm):
        self.lm = lm.eval()
        self.states = {}

    @torch.no_grad()
    def __call__(self, tokens):
        keys = [tuple(row) for row in tokens.tolist()]
        previous = [self.states.get(key[:-1]) for key in keys]
        if all(state is not None for state in previous):
            state = tuple(torch.stack([p[i] for p in previous], dim=1) for i in range(2))
            logits, (hidden, cell) = self.lm.score(tokens[:, -1:], state)
        else:
            logits, (hidden, cell) = self.lm.score(tokens)
        self.states = {key: (hidden[:, n], cell[:, n]) for n, key in enumerate(keys)}
        return torch.log_softmax(logits[:, -1], dim=-1)
