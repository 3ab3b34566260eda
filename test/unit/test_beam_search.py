"""Joint CTC/attention beam search, LM fusion and attention rescoring with small real torch
decoders (random weights): batched scoring, greedy equivalence at beam 1, CTC-only equivalence
with prefix beam search, score parts equal to independent teacher-forced sums."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from toolkit.decode.beam_search import beam_search
from toolkit.decode.ctc_prefix_beam import ctc_prefix_beam_search
from toolkit.decode.lm_adapter import RNNLMStep
from toolkit.decode.rescoring import attention_rescoring
from toolkit.models.lm.rnn_lm import RNNLM

VOCAB, DIM, FRAMES = 10, 16, 12  # blank 0, <unk> 1, tokens 2..8, <sos/eos> 9
EOS = VOCAB - 1


class TransformerDecoder(nn.Module):
    """Tiny causal transformer decoder; an <eos> bias makes hypotheses end within a few tokens."""

    def __init__(self, seed=0, eos_bias=1.5):
        super().__init__()
        torch.manual_seed(seed)
        self.embed, self.pos = nn.Embedding(VOCAB, DIM), nn.Embedding(64, DIM)
        layer = nn.TransformerDecoderLayer(DIM, nhead=2, dim_feedforward=32, dropout=0.0, batch_first=True)
        self.layers = nn.TransformerDecoder(layer, num_layers=2)
        self.out = nn.Linear(DIM, VOCAB)
        with torch.no_grad():
            self.out.bias[EOS] += eos_bias
        self.eval()
        self.calls = []

    def forward(self, tokens, memory, memory_mask=None):
        length = tokens.size(1)
        x = self.embed(tokens) + self.pos(torch.arange(length))
        causal = nn.Transformer.generate_square_subsequent_mask(length)
        padding = None if memory_mask is None else ~memory_mask[:, 0]
        return self.out(self.layers(x, memory, tgt_mask=causal, memory_key_padding_mask=padding)).log_softmax(-1)

    def step(self, tokens, memory, memory_mask, cache):
        self.calls.append(tuple(tokens.shape))
        return self(tokens, memory, memory_mask)[:, -1], None

    def full(self, tokens, lengths, memory, memory_mask):
        return self(tokens, memory, memory_mask)


class GRUDecoder(nn.Module):
    """GRU + dot-product attention; its cache is the GRU state [N, 1, D]."""

    def __init__(self, use_cache, seed=1):
        super().__init__()
        torch.manual_seed(seed)
        self.use_cache = use_cache
        self.embed, self.gru = nn.Embedding(VOCAB, DIM), nn.GRU(DIM, DIM, batch_first=True)
        self.out = nn.Linear(2 * DIM, VOCAB)
        with torch.no_grad():
            self.out.bias[EOS] += 1.5

    def step(self, tokens, memory, memory_mask, cache):
        if cache is None:
            hidden, state = self.gru(self.embed(tokens))
        else:
            hidden, state = self.gru(self.embed(tokens[:, -1:]), cache.transpose(0, 1).contiguous())
        query = hidden[:, -1]
        weights = torch.softmax(torch.einsum("ntd,nd->nt", memory, query), dim=1)
        context = torch.einsum("nt,ntd->nd", weights, memory)
        log_probs = self.out(torch.cat([query, context], dim=1)).log_softmax(-1)
        return log_probs, state.transpose(0, 1) if self.use_cache else None


def peaky_ctc(seed, frames=FRAMES, vocab=VOCAB, peak=6.0):
    """CTC log-probs [T, V] peaked on a random alignment (never <unk> or <eos>)."""
    rng = np.random.default_rng(seed)
    target = np.where(rng.random(frames) < 0.5, 0, rng.integers(2, vocab - 1, frames))
    logits = rng.standard_normal((frames, vocab))
    logits[np.arange(frames), target] += peak
    return torch.tensor(logits).log_softmax(-1)


def memory_for(seed):
    return torch.randn(1, FRAMES, DIM, generator=torch.Generator().manual_seed(seed))


def teacher_forced(step_log_probs, tokens):
    """Sum of log p(y_j | <sos> y_<j) over tokens + <eos>, one step call per prefix."""
    prefix, total = [EOS], 0.0
    for token in tokens + [EOS]:
        total += step_log_probs(torch.tensor([prefix]))[0, token].item()
        prefix.append(token)
    return total


def ctc_log_prob(log_probs, tokens):
    return -F.ctc_loss(log_probs[:, None], torch.tensor([tokens]), torch.tensor([len(log_probs)]),
                       torch.tensor([len(tokens)]), reduction="sum").item()


def make_lm():
    torch.manual_seed(3)
    return RNNLM(VOCAB, embed_dim=16, hidden_dim=16, num_layers=1, dropout=0.0).eval()


def lm_log_probs(lm):
    return lambda tokens: lm.score(tokens)[0][:, -1].log_softmax(-1)


def greedy(decoder, memory, maxlen):
    """Reference greedy decoding of the attention decoder alone (blank excluded)."""
    tokens, score = [], 0.0
    for _ in range(maxlen):
        log_probs = decoder.step(torch.tensor([[EOS] + tokens]), memory, None, None)[0][0]
        log_probs[0] = -math.inf
        token = int(log_probs.argmax())
        score += log_probs[token].item()
        if token == EOS:
            break
        tokens.append(token)
    return tokens, score


def test_beam_one_equals_greedy():
    lengths = []
    for seed in range(6):
        decoder, memory = TransformerDecoder(seed, eos_bias=0.5), memory_for(seed)
        expected_tokens, expected_score = greedy(decoder, memory, FRAMES)
        (tokens, score, parts), = beam_search(memory, decoder.step, beam=1, ctc_weight=0.0, eos=EOS)
        assert tokens == expected_tokens
        assert score == pytest.approx(expected_score) and parts == {"decoder": pytest.approx(score)}
        lengths.append(len(tokens))
    assert max(lengths) >= 4


def test_joint_search_is_batched_sorted_and_scores_add_up():
    """One decoder call per step for all hypotheses; each part equals an independent
    teacher-forced sum; the total is their ESPnet-weighted sum."""
    decoder, memory, ctc = TransformerDecoder(), memory_for(0), peaky_ctc(0)
    lm, penalty = make_lm(), 0.2
    nbest = beam_search(memory, decoder.step, ctc, beam=4, ctc_weight=0.3, lm_step=RNNLMStep(lm),
                        lm_weight=0.5, length_penalty=penalty)
    assert [(n, length) for n, length in decoder.calls] == [(n, i + 1) for i, (n, _) in enumerate(decoder.calls)]
    assert max(n for n, _ in decoder.calls) == 4 and decoder.calls[0][0] == 1
    assert len(nbest) == 4 and [h.score for h in nbest] == sorted((h.score for h in nbest), reverse=True)
    for tokens, score, parts in nbest:
        assert 0 < len(tokens) < FRAMES and 0 not in tokens
        assert parts["decoder"] == pytest.approx(teacher_forced(lambda t: decoder(t, memory)[:, -1], tokens), abs=1e-5)
        assert parts["lm"] == pytest.approx(teacher_forced(lm_log_probs(lm), tokens), abs=1e-5)
        assert parts["ctc"] == pytest.approx(ctc_log_prob(ctc, tokens), abs=1e-6)
        assert parts["length_bonus"] == len(tokens) + 1
        weighted = 0.7 * parts["decoder"] + 0.3 * parts["ctc"] + 0.5 * parts["lm"] + penalty * parts["length_bonus"]
        assert score == pytest.approx(weighted, abs=1e-9)


def test_lm_fusion_adds_weighted_lm_log_probability():
    decoder, memory, ctc, lm = TransformerDecoder(2), memory_for(2), peaky_ctc(2), make_lm()
    plain = {tuple(h.tokens): h.score for h in beam_search(memory, decoder.step, ctc, beam=6)}
    fused = beam_search(memory, decoder.step, ctc, beam=6, lm_step=RNNLMStep(lm), lm_weight=0.7)
    common = [h for h in fused if tuple(h.tokens) in plain]
    assert common
    for tokens, score, parts in common:
        lm_sum = teacher_forced(lm_log_probs(lm), tokens)
        assert parts["lm"] == pytest.approx(lm_sum, abs=1e-5)
        assert score - plain[tuple(tokens)] == pytest.approx(0.7 * lm_sum, abs=1e-5)


@pytest.mark.parametrize("seed", range(8))
def test_ctc_weight_one_equals_prefix_beam_search(seed):
    ctc = peaky_ctc(seed, frames=30)
    (tokens, score, parts), *_ = beam_search(None, None, ctc, beam=10, ctc_weight=1.0)
    assert tokens == ctc_prefix_beam_search(ctc, beam=10)[0][0]
    assert score == parts["ctc"] == pytest.approx(ctc_log_prob(ctc, tokens), abs=1e-6)


def test_cached_decoder_matches_recompute():
    memory, ctc = memory_for(4), peaky_ctc(4)
    cached = beam_search(memory, GRUDecoder(use_cache=True).step, ctc, beam=5, ctc_weight=0.3)
    recomputed = beam_search(memory, GRUDecoder(use_cache=False).step, ctc, beam=5, ctc_weight=0.3)
    assert [h.tokens for h in cached] == [h.tokens for h in recomputed]
    np.testing.assert_allclose([h.score for h in cached], [h.score for h in recomputed], atol=1e-5)


def test_length_limits():
    decoder, memory = TransformerDecoder(5, eos_bias=0.0), memory_for(5)
    short = beam_search(memory, decoder.step, beam=4, ctc_weight=0.0, maxlenratio=0.25, eos=EOS)
    assert short and all(len(h.tokens) <= 3 for h in short)
    eager = TransformerDecoder(5, eos_bias=6.0)
    assert greedy(eager, memory, FRAMES)[0] == []
    long = beam_search(memory, eager.step, beam=4, ctc_weight=0.0, minlenratio=0.25, eos=EOS)
    assert long and all(len(h.tokens) >= 3 for h in long)
    with pytest.raises(ValueError, match="ctc_log_probs"):
        beam_search(memory, decoder.step, beam=4, ctc_weight=0.5, eos=EOS)


def test_rnnlm_step_matches_full_recompute():
    lm = make_lm()
    step, reference = RNNLMStep(lm), lm_log_probs(lm)
    calls = [[[EOS]], [[EOS, 2], [EOS, 5], [EOS, 2]], [[EOS, 5, 3], [EOS, 2, 2]], [[EOS, 7, 3]]]
    for tokens in map(torch.tensor, calls):
        torch.testing.assert_close(step(tokens), reference(tokens), atol=1e-6, rtol=0)


def test_attention_rescoring_matches_teacher_forcing():
    decoder, memory, ctc = TransformerDecoder(6), memory_for(6), peaky_ctc(6)
    nbest = ctc_prefix_beam_search(ctc, beam=6)
    rescored = attention_rescoring(nbest, memory, decoder.full, 0.5, eos=EOS)
    expected = sorted(((teacher_forced(lambda t: decoder(t, memory)[:, -1], tokens) + 0.5 * ctc_score, tokens)
                       for tokens, ctc_score in nbest), reverse=True)
    assert [h.tokens for h in rescored] == [tokens for _, tokens in expected]
    np.testing.assert_allclose([h.score for h in rescored], [score for score, _ in expected], atol=1e-5)
    assert {h.scores["ctc"] for h in rescored} == {score for _, score in nbest}


def test_memory_mask_hides_padded_frames():
    """Padding frames masked out give the same results as the memory without them."""
    decoder, memory = TransformerDecoder(7, eos_bias=0.5), memory_for(7)
    padded = torch.cat([memory[:, :8], 5 * torch.randn(1, 4, DIM)], dim=1)
    mask = (torch.arange(FRAMES) < 8)[None, None]
    masked = beam_search(padded, decoder.step, beam=4, ctc_weight=0.0, memory_mask=mask, eos=EOS, maxlenratio=-8)
    cut = beam_search(memory[:, :8], decoder.step, beam=4, ctc_weight=0.0, eos=EOS, maxlenratio=-8)
    assert [h.tokens for h in masked] == [h.tokens for h in cut]
    np.testing.assert_allclose([h.score for h in masked], [h.score for h in cut], atol=1e-5)
    unmasked = beam_search(padded, decoder.step, beam=4, ctc_weight=0.0, eos=EOS, maxlenratio=-8)
    assert [h.score for h in unmasked] != pytest.approx([h.score for h in cut], abs=1e-3)
    nbest = [(h.tokens, 0.0) for h in cut]
    rescored_masked = attention_rescoring(nbest, padded, decoder.full, 0.5, eos=EOS, memory_mask=mask)
    rescored_cut = attention_rescoring(nbest, memory[:, :8], decoder.full, 0.5, eos=EOS)
    np.testing.assert_allclose([h.score for h in rescored_masked], [h.score for h in rescored_cut], atol=1e-5)
