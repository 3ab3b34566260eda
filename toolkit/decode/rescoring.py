"""Attention rescoring of a CTC n-best list (WeNet's attention_rescoring decoding mode)."""
import torch

from toolkit.decode.beam_search import Hypothesis


@torch.no_grad()
def attention_rescoring(nbest, memory, decoder_forward, ctc_weight=0.5, *, eos, memory_mask=None):
    """Rescore CTC hypotheses with the attention decoder in one teacher-forced batch.

    nbest: [(tokens, ctc log probability)], e.g. from ctc_prefix_beam_search.
    memory: encoder output [1, T, D]; memory_mask: [1, 1, T] bool (True on valid frames) or None.
    eos: the <sos>/<eos> id (vocab_size - 1).
    decoder_forward(tokens [N, L], lengths [N], memory [N, T, D], memory_mask [N, 1, T] or None)
        -> log_probs [N, L, V]: row j is the next-token distribution after tokens[:, :j + 1].
        tokens are <sos> + hypothesis, padded with <eos>; lengths count <sos>.
    Score = log p_att(tokens + <eos>) + ctc_weight * ctc score. Returns Hypothesis list, best first,
    with scores {"decoder", "ctc"}.
    """
    if not nbest:
        return []
    num = len(nbest)
    lengths = torch.tensor([len(tokens) + 1 for tokens, _ in nbest], device=memory.device)
    inputs = torch.full((num, int(lengths.max())), eos, dtype=torch.long, device=memory.device)
    targets = torch.full((num, inputs.size(1)), eos, dtype=torch.long, device=memory.device)
    for n, (tokens, _) in enumerate(nbest):
        inputs[n, 1:len(tokens) + 1] = torch.as_tensor(tokens, dtype=torch.long)
        targets[n, :len(tokens)] = torch.as_tensor(tokens, dtype=torch.long)
    mask = None if memory_mask is None else memory_mask.expand(num, -1, -1)
    log_probs = decoder_forward(inputs, lengths, memory.expand(num, -1, -1), mask).to(torch.float64)
    token_scores = log_probs.gather(2, targets[..., None]).squeeze(2)
    valid = torch.arange(inputs.size(1), device=memory.device)[None] < lengths[:, None]
    decoder_scores = token_scores.masked_fill(~valid, 0.0).sum(1).tolist()
    rescored = [Hypothesis(list(tokens), dec + ctc_weight * ctc, {"decoder": dec, "ctc": ctc})
                for (tokens, ctc), dec in zip(nbest, decoder_scores)]
    return sorted(rescored, key=lambda hyp: hyp.score, reverse=True)
