"""CTC decoding checked against peers: greedy vs a manual collapse; prefix beam search vs
pyctcdecode and vs brute-force enumeration of all alignments; prefix scores vs brute force
and torch's ctc_loss."""
import itertools
import logging

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from pyctcdecode import build_ctcdecoder

from toolkit.decode.ctc_greedy import ctc_greedy
from toolkit.decode.ctc_prefix_beam import ctc_prefix_beam_search
from toolkit.decode.ctc_prefix_score import CTCPrefixScorer

logging.getLogger("pyctcdecode").setLevel(logging.ERROR)
# pyctcdecode labels: "" is blank, then single characters (no space, no BPE marks)
LABELS = [""] + [chr(0x4E00 + i) for i in range(1, 64)]
NO_PRUNING = -1e9


def log_softmax(x):
    return x - np.logaddexp.reduce(x, axis=1, keepdims=True)


def peaky_log_probs(rng, num_frames, vocab, peak=8.0, noise=1.5):
    """Posteriors like a trained CTC model's: each frame raises a target (blank half the time)
    by `peak` above Gaussian logits."""
    target = np.where(rng.random(num_frames) < 0.5, 0, rng.integers(1, vocab, num_frames))
    logits = rng.standard_normal((num_frames, vocab)) * noise
    logits[np.arange(num_frames), target] += peak
    return log_softmax(logits)


def collapse(alignment, blank=0):
    return tuple(k for k, _ in itertools.groupby(alignment) if k != blank)


def sequence_log_probs(log_probs):
    """Brute force: {label sequence: log probability}, summing over all V^T alignments."""
    num_frames, vocab = log_probs.shape
    probs = {}
    for alignment in itertools.product(range(vocab), repeat=num_frames):
        score = log_probs[np.arange(num_frames), alignment].sum()
        seq = collapse(alignment)
        probs[seq] = np.logaddexp(probs.get(seq, -np.inf), score)
    return probs


def ctc_log_prob(log_probs, tokens):
    """log p(tokens | x) = -ctc_loss (forward algorithm, torch)."""
    lp = torch.as_tensor(log_probs, dtype=torch.float64)
    if not tokens:
        return lp[:, 0].sum().item()
    return -F.ctc_loss(lp[:, None], torch.tensor([tokens]), torch.tensor([len(lp)]),
                       torch.tensor([len(tokens)]), reduction="sum").item()


def pyctcdecode_nbest(log_probs, beam, token_min_logp=NO_PRUNING):
    """pyctcdecode's beams without LM and without score pruning, as (token ids, log score)."""
    decoder = build_ctcdecoder(LABELS[:log_probs.shape[1]])
    beams = decoder.decode_beams(log_probs, beam_width=beam, beam_prune_logp=NO_PRUNING,
                                 token_min_logp=token_min_logp, prune_history=False)
    return [([LABELS.index(c) for c in text], score) for text, _, _, score, _ in beams]


def test_ctc_greedy_matches_manual_collapse():
    rng = np.random.default_rng(0)
    log_probs = torch.tensor(np.stack([peaky_log_probs(rng, 40, 6, peak=3.0) for _ in range(4)]))
    lengths = torch.tensor([40, 31, 7, 0])
    expected = [list(collapse(row[:n].argmax(-1).tolist())) for row, n in zip(log_probs, lengths)]
    assert ctc_greedy(log_probs, lengths) == expected
    assert expected[3] == [] and any(len(e) > 5 for e in expected)
    assert ctc_greedy(log_probs)[0] == expected[0]


@pytest.mark.parametrize("seed", range(3))
def test_prefix_beam_unpruned_is_exact(seed):
    """With a beam holding every prefix the search returns every label sequence with its exact
    probability: the brute-force sum over alignments, which equals -ctc_loss."""
    rng = np.random.default_rng(seed)
    log_probs = log_softmax(rng.standard_normal((6, 4)) * 2)
    expected = sequence_log_probs(log_probs)
    nbest = ctc_prefix_beam_search(log_probs, beam=10**6)
    assert len(nbest) == len(expected) > 300
    for tokens, score in nbest:
        assert score == pytest.approx(expected[tuple(tokens)], abs=1e-9)
    assert [s for _, s in nbest] == sorted((s for _, s in nbest), reverse=True)
    best_tokens, best_score = nbest[0]
    assert best_score == pytest.approx(max(expected.values()), abs=1e-9)
    assert best_score == pytest.approx(ctc_log_prob(log_probs, best_tokens), abs=1e-9)


def test_prefix_beam_token_pruning_restricts_alignments():
    """token_topk=2 / token_min_logp: exactly the alignments through kept tokens are searched."""
    rng = np.random.default_rng(5)
    log_probs = log_softmax(rng.standard_normal((6, 4)) * 2)
    for options in ({"token_topk": 2}, {"token_min_logp": -1.5}):
        kept = log_probs.copy()
        if "token_topk" in options:
            kth = np.sort(log_probs, axis=1)[:, -2:-1]
            kept[log_probs < kth] = -np.inf
        else:
            kept[(log_probs < -1.5) & (log_probs < log_probs.max(1, keepdims=True))] = -np.inf
        expected = {s: p for s, p in sequence_log_probs(kept).items() if p > -np.inf}
        nbest = ctc_prefix_beam_search(log_probs, beam=10**6, **options)
        assert {tuple(t): pytest.approx(s, abs=1e-9) for t, s in nbest} == expected


def test_prefix_beam_equals_pyctcdecode_when_both_exact():
    """Small vocabulary and a beam wide enough for both searches to be exact: same n-best."""
    for seed in range(5):
        log_probs = log_softmax(np.random.default_rng(seed).standard_normal((7, 3)) * 2)
        ours = ctc_prefix_beam_search(log_probs, beam=5000)[:20]
        theirs = pyctcdecode_nbest(log_probs, beam=5000)[:20]
        assert [t for t, _ in ours] == [t for t, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-9)


@pytest.mark.parametrize("num_frames,vocab,token_min_logp", [(60, 10, NO_PRUNING), (100, 30, -5.0)])
def test_prefix_beam_best_equals_pyctcdecode_on_peaky_outputs(num_frames, vocab, token_min_logp):
    """50 seeded peaky posteriors, beam 10, the same token pruning on both sides: the same best
    hypothesis; its score is a lower bound of its exact probability (pruned paths are lost)."""
    rng = np.random.default_rng(123)
    for _ in range(50):
        log_probs = peaky_log_probs(rng, num_frames, vocab)
        tokens, score = ctc_prefix_beam_search(log_probs, beam=10, token_min_logp=token_min_logp)[0]
        assert tokens == pyctcdecode_nbest(log_probs, beam=10, token_min_logp=token_min_logp)[0][0]
        assert ctc_log_prob(log_probs, tokens) - 0.5 < score <= ctc_log_prob(log_probs, tokens) + 1e-9


def prefix_states(scorer, max_len, tokens):
    """All prefixes over `tokens` up to max_len, level by level, as one batched state per level."""
    state, prefixes = scorer.initial_state(), [()]
    levels = [(prefixes, state)]
    for _ in range(max_len):
        source = torch.arange(len(prefixes)).repeat_interleave(len(tokens))
        new = torch.tensor(tokens).repeat(len(prefixes))
        state = scorer.advance(state, source, new)
        prefixes = [p + (t,) for p in prefixes for t in tokens]
        levels.append((prefixes, state))
    return levels


def test_prefix_scorer_matches_brute_force_and_ctc_loss():
    """psi(h + c) = total probability of the label sequences starting with h + c (all
    alignments over the whole vocabulary); psi(h + eos) = log p(h) = -ctc_loss."""
    log_probs = torch.randn(6, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0)).mul(2)
    log_probs = log_probs.log_softmax(-1)  # blank 0, tokens 1 2, eos 3
    probs = sequence_log_probs(log_probs.numpy())
    scorer = CTCPrefixScorer(log_probs)
    candidates = [1, 2, 3]

    def starting_with(prefix):
        return np.logaddexp.reduce([p for s, p in probs.items() if s[:len(prefix)] == prefix] + [-np.inf])

    checked = 0
    for prefixes, state in prefix_states(scorer, 3, [1, 2]):
        psi = scorer.score(state, torch.tensor(candidates).expand(len(prefixes), -1))
        for prefix, row, own in zip(prefixes, psi.tolist(), state.prefix.tolist()):
            assert own == pytest.approx(starting_with(prefix), abs=1e-9)
            for token, value in zip(candidates, row):
                if token == 3:
                    assert value == pytest.approx(probs.get(prefix, -np.inf), abs=1e-9)
                    assert value == pytest.approx(ctc_log_prob(log_probs, list(prefix)), abs=1e-9)
                elif starting_with(prefix + (token,)) > -np.inf:
                    assert value == pytest.approx(starting_with(prefix + (token,)), abs=1e-9)
                    checked += 1
    assert checked > 20
    blank_score = scorer.score(scorer.initial_state(), torch.tensor([[0]]))
    assert blank_score.item() == -np.inf


def test_prefix_scorer_stays_exact_on_long_inputs():
    """The cumulative-sum recursions lose no precision over hundreds of frames and tokens."""
    tokens_and_blank = peaky_log_probs(np.random.default_rng(7), 400, 39, peak=12.0)
    with_eos = np.concatenate([tokens_and_blank, np.full((400, 1), -30.0)], axis=1)  # eos 39: never emitted
    log_probs = torch.tensor(log_softmax(with_eos)).float()
    tokens = ctc_greedy(log_probs[None])[0]
    scorer = CTCPrefixScorer(log_probs)
    state = scorer.initial_state()
    for token in tokens:
        state = scorer.advance(state, torch.tensor([0]), torch.tensor([token]))
    assert len(tokens) > 150
    eos = scorer.score(state, torch.tensor([[39]])).item()
    assert eos == pytest.approx(ctc_log_prob(log_probs.double().numpy(), tokens), abs=1e-9)
