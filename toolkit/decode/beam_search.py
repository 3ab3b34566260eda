"""Label-synchronous beam search for attention decoders: joint CTC prefix scoring and LM shallow
fusion with ESPnet's semantics (BatchBeamSearch), one utterance at a time; every step scores all
running hypotheses of the utterance in one decoder call and one LM call.

Score of a hypothesis y (ESPnet weights): (1 - ctc_weight) * log p_att(y) + ctc_weight * psi_ctc(y)
+ lm_weight * log p_lm(y) + length_penalty * |y|, where the sums run over the tokens and the <eos>
chosen by the search; psi_ctc is the CTC prefix score, equal to log p_ctc(y) once <eos> is chosen.
"""
import math
from typing import NamedTuple

import torch

from toolkit.decode.ctc_prefix_score import CTCPrefixScorer


class Hypothesis(NamedTuple):
    """One result: token ids (without <sos>/<eos>), total score, and its unweighted parts."""

    tokens: list
    score: float
    scores: dict


@torch.no_grad()
def beam_search(memory, decoder_step, ctc_log_probs=None, beam=10, ctc_weight=0.3, lm_step=None,
                lm_weight=0.0, length_penalty=0.0, maxlenratio=0.0, minlenratio=0.0, memory_mask=None,
                nbest=None, eos=None, blank=0, pre_beam_ratio=1.5):
    """N-best hypotheses of one utterance, best first.

    memory: encoder output [1, T, D] (may be None when ctc_weight == 1); memory_mask: [1, 1, T]
        bool, True on valid frames, or None.
    decoder_step(tokens [N, L] starting with <sos>, memory [N, T, D], memory_mask [N, 1, T] or None,
        cache) -> (log_probs [N, V], new_cache). cache starts as None; a returned cache must be None
        or (nested lists/tuples/dicts of) tensors whose first dimension is the hypothesis.
    ctc_log_probs: [T', V] CTC log probabilities of the utterance (needed when ctc_weight > 0).
    lm_step(tokens [N, L]) -> next-token log_probs [N, V]; used when lm_weight != 0.
    maxlenratio: 0 -> at most T output steps and ESPnet's end detection; > 0 -> max(1, int(ratio * T))
        steps; < 0 -> -ratio steps. Hypotheses still running at the last step get <eos> appended.
    minlenratio: <eos> is masked before int(ratio * T) tokens (< 0: -ratio tokens); ESPnet instead
        drops hypotheses that end early, which can empty the beam.
    eos: <sos>/<eos> id, by default V - 1 of ctc_log_probs. Blank is never emitted.
    pre_beam_ratio: with 0 < ctc_weight < 1, CTC scores only the int(ratio * beam) best tokens of
        the other scorers per hypothesis (ESPnet's pre-beam); with ctc_weight == 1, all tokens.
    Returns up to `nbest` (default `beam`) Hypothesis(tokens, score, scores) where `scores` holds
    the unweighted sums "decoder", "ctc", "lm", "length_bonus" of the scorers in use.
    """
    weights = _weights(memory, decoder_step, ctc_log_probs, ctc_weight, lm_step, lm_weight, length_penalty)
    if eos is None:
        if ctc_log_probs is None:
            raise ValueError("beam_search: pass eos (= vocab_size - 1) when decoding without CTC")
        eos = ctc_log_probs.size(-1) - 1
    num_frames = memory.size(1) if memory is not None else ctc_log_probs.size(0)
    maxlen, minlen = _length_bounds(num_frames, maxlenratio, minlenratio)
    device = memory.device if memory is not None else ctc_log_probs.device
    ctc = CTCPrefixScorer(ctc_log_probs, blank=blank, eos=eos) if "ctc" in weights else None
    ctc_state = ctc.initial_state() if ctc else None
    pre_beam = int(pre_beam_ratio * beam) if "decoder" in weights else None

    yseq = torch.full((1, 1), eos, dtype=torch.long, device=device)
    score = torch.zeros(1, dtype=torch.float64, device=device)
    parts = {name: torch.zeros(1, dtype=torch.float64, device=device) for name in weights}
    cache, ended = None, []
    for i in range(maxlen):
        num = yseq.size(0)
        step = {}
        if "decoder" in weights:
            mask = None if memory_mask is None else memory_mask.expand(num, -1, -1)
            log_probs, cache = decoder_step(yseq, memory.expand(num, -1, -1), mask, cache)
            step["decoder"] = log_probs.to(torch.float64)
        if "lm" in weights:
            step["lm"] = lm_step(yseq).to(device, torch.float64)
        vocab = next(iter(step.values())).size(1) if step else ctc.vocab
        if "length_bonus" in weights:
            step["length_bonus"] = torch.ones(num, vocab, dtype=torch.float64, device=device)
        weighted = sum((weights[name] * s for name, s in step.items()),
                       torch.zeros(num, vocab, dtype=torch.float64, device=device))
        weighted[:, blank] = -math.inf
        if i < minlen:
            weighted[:, eos] = -math.inf
        if ctc:
            step["ctc"] = _ctc_increments(ctc, ctc_state, weighted, pre_beam)
            weighted = weighted + weights["ctc"] * step["ctc"]
        total = (score[:, None] + weighted).view(-1)
        best = total.topk(min(beam, int(torch.isfinite(total).sum()))).indices
        source, token = best // vocab, best % vocab
        score = total[best]
        parts = {name: parts[name][source] + step[name][source, token] for name in weights}
        yseq = torch.cat([yseq[source], token[:, None]], dim=1)

        done = (token == eos) | (i == maxlen - 1)
        for j in done.nonzero().flatten().tolist():
            tokens = yseq[j, 1:].tolist()
            ended.append(Hypothesis(tokens[:-1] if tokens[-1] == eos else tokens, score[j].item(),
                                    {name: value[j].item() for name, value in parts.items()}))
        running = (~done).nonzero().flatten()
        if len(running) == 0 or (maxlenratio == 0 and end_detect(ended, i)):
            break
        yseq, score = yseq[running], score[running]
        parts = {name: value[running] for name, value in parts.items()}
        cache = _select(cache, source[running])
        if ctc:
            ctc_state = ctc.advance(ctc_state, source[running], token[running])
    ended.sort(key=lambda hyp: hyp.score, reverse=True)
    return ended[:nbest or beam]


def _ctc_increments(ctc, state, weighted, pre_beam):
    """psi(h + c) - psi(h) [N, V] for the pre-beam candidates c (all tokens when pre_beam is None
    or not smaller than V), -inf for the other tokens."""
    num, vocab = weighted.shape
    if pre_beam is not None and pre_beam < vocab:
        candidates = weighted.topk(pre_beam, dim=1).indices
    else:
        candidates = torch.arange(vocab, device=weighted.device).expand(num, -1)
    psi = ctc.score(state, candidates).to(weighted.device)
    increments = torch.full_like(weighted, -math.inf)
    return increments.scatter_(1, candidates, psi - state.prefix.to(weighted.device)[:, None])


def end_detect(ended, i, m=3, d_end=-10.0):
    """ESPnet's end detection (Watanabe et al. 2017, eq. 50) at step i: true when, for each of the
    last m lengths (counted with <sos> and <eos>: i, i-1, ..., i-m+1), hypotheses of that length
    ended and the best of them is more than -d_end below the best ended score."""
    if not ended:
        return False
    best = max(hyp.score for hyp in ended)
    count = 0
    for back in range(m):
        same = [hyp.score for hyp in ended if len(hyp.tokens) + 2 == i - back]
        count += bool(same) and max(same) - best < d_end
    return count == m


def _weights(memory, decoder_step, ctc_log_probs, ctc_weight, lm_step, lm_weight, length_penalty):
    """Scorer weights of this search; a scorer of weight 0 is not run (as in ESPnet)."""
    if not 0.0 <= ctc_weight <= 1.0:
        raise ValueError(f"beam_search: ctc_weight must be in [0, 1], got {ctc_weight}")
    weights = {"decoder": 1.0 - ctc_weight, "ctc": ctc_weight, "lm": lm_weight, "length_bonus": length_penalty}
    weights = {name: w for name, w in weights.items() if w != 0}
    if "decoder" in weights and (decoder_step is None or memory is None):
        raise ValueError("beam_search: ctc_weight < 1 needs memory and decoder_step")
    if "ctc" in weights and ctc_log_probs is None:
        raise ValueError("beam_search: ctc_weight > 0 needs ctc_log_probs")
    if "lm" in weights and lm_step is None:
        raise ValueError("beam_search: lm_weight != 0 needs lm_step")
    return weights


def _length_bounds(num_frames, maxlenratio, minlenratio):
    """(maxlen, minlen) in tokens from ESPnet's ratios."""
    if maxlenratio == 0:
        maxlen = num_frames
    elif maxlenratio < 0:
        maxlen = int(-maxlenratio)
    else:
        maxlen = max(1, int(maxlenratio * num_frames))
    minlen = int(-minlenratio) if minlenratio < 0 else int(minlenratio * num_frames)
    if minlen >= maxlen:
        raise ValueError(f"beam_search: min length {minlen} must be below max length {maxlen} "
                         f"(minlenratio={minlenratio}, maxlenratio={maxlenratio}, {num_frames} frames)")
    return maxlen, minlen


def _select(cache, index):
    """Rows `index` of every tensor in a (nested) decoder cache."""
    if cache is None:
        return None
    if isinstance(cache, torch.Tensor):
        return cache.index_select(0, index.to(cache.device))
    if isinstance(cache, dict):
        return {key: _select(value, index) for key, value in cache.items()}
    return type(cache)(_select(value, index) for value in cache)
