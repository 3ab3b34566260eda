"""Separation losses: pairwise SI-SNR against fast_bss_eval, SNR/SD-SDR definitions, PIT, lengths, threshold."""
import itertools

import fast_bss_eval
import numpy as np
import pytest
import torch

from toolkit.audio.resample import resample
from toolkit.losses.sep import (PITLoss, pairwise_neg_sd_sdr, pairwise_neg_si_snr, pairwise_neg_snr, pit_loss,
                                reorder_sources, threshold_mean)
from toolkit.utils.errors import ConfigError
from toolkit.utils.espeak import synthesize

SENTENCES = [("the quick brown fox", "en-us"), ("jumps over the lazy dog", "en-us+f3"),
             ("seven red boats", "en-us+m2"), ("forty two apples", "en-us+f1"), ("a small blue cup", "en-us+m3")]


@pytest.fixture(scope="module")
def speech():
    """Five espeak utterances at 8 kHz, cut to one length: float64 [5, T]."""
    waves = []
    for text, voice in SENTENCES:
        audio, rate = synthesize(text, voice)
        waves.append(resample(audio.astype(np.float32) / 32768, rate, 8000))
    length = min(len(w) for w in waves)
    return torch.from_numpy(np.stack([w[:length] for w in waves]).astype(np.float64))


def noisy(ref, snr_db, seed):
    """ref [B, S, T] plus white noise at `snr_db` per source."""
    gen = torch.Generator().manual_seed(seed)
    noise = torch.randn(ref.shape, generator=gen, dtype=ref.dtype)
    noise *= (ref.pow(2).sum(-1, keepdim=True) / noise.pow(2).sum(-1, keepdim=True) / 10 ** (snr_db / 10)).sqrt()
    return ref + noise


def test_pairwise_si_snr_equals_fast_bss_eval(speech):
    ref = speech[None, :3] + 0.01  # a DC offset: zero-mean matters
    est = noisy(ref[:, [2, 0, 1]] * torch.tensor([0.5, 2.0, 1.0])[:, None], 5.0, seed=0) - 0.03
    theirs = fast_bss_eval.si_sdr_loss(est.numpy(), ref.numpy(), zero_mean=True, pairwise=True)  # [B, ref, est]
    theirs = theirs.transpose(0, 2, 1)
    np.testing.assert_allclose(pairwise_neg_si_snr(est, ref, eps=0.0).numpy(), theirs, atol=1e-9)
    # eps (1e-8) shifts only the badly matched pairs (around -50 dB here), and by less than 1e-3 dB
    np.testing.assert_allclose(pairwise_neg_si_snr(est, ref).numpy(), theirs, atol=1e-3)
    ours32 = pairwise_neg_si_snr(est.float(), ref.float())
    assert ours32.dtype == torch.float32
    np.testing.assert_allclose(ours32.numpy(), theirs, atol=1e-3)


def test_snr_and_sd_sdr_definitions(speech):
    ref = speech[None, :2]
    est = noisy(ref + 0.3 * ref.flip(1), 10.0, seed=1) * 0.7  # each estimate leaks the other source
    e, r = est.numpy()[0][:, None], ref.numpy()[0][None]
    alpha = (e * r).sum(-1) / (r ** 2).sum(-1)
    snr = 10 * np.log10((r ** 2).sum(-1) / ((e - r) ** 2).sum(-1))
    sd_sdr = 10 * np.log10((alpha ** 2) * (r ** 2).sum(-1) / ((e - r) ** 2).sum(-1))
    np.testing.assert_allclose(pairwise_neg_snr(est, ref)[0].numpy(), -snr, atol=1e-6)
    np.testing.assert_allclose(pairwise_neg_sd_sdr(est, ref)[0].numpy(), -sd_sdr, atol=1e-6)


def test_scale_sensitivity(speech):
    ref = speech[None, :1]
    half = ref * 0.5  # a perfect shape at half the gain
    assert pairwise_neg_si_snr(half, ref).item() < -80  # scale-invariant: near perfect, kept finite by eps
    assert pairwise_neg_snr(half, ref).item() == pytest.approx(-10 * np.log10(4), abs=1e-6)
    assert pairwise_neg_sd_sdr(half, ref).item() == pytest.approx(0.0, abs=1e-6)


def test_silent_signals_give_finite_losses_and_gradients():
    est = torch.zeros(1, 2, 400, requires_grad=True)
    ref = torch.zeros(1, 2, 400)
    for kind in ("si_snr", "snr", "sd_sdr"):
        loss, _, _ = PITLoss(kind)(est, ref)
        loss.backward()
        assert torch.isfinite(loss) and torch.isfinite(est.grad).all()
        est.grad = None


@pytest.mark.parametrize("num", [2, 3, 4, 5])
def test_pit_finds_the_shuffling(speech, num):
    ref = torch.stack([speech[:num], speech[:num].flip(0)])  # two utterances, different source orders
    shuffles = [torch.randperm(num, generator=torch.Generator().manual_seed(seed)) for seed in (3, 4)]
    est = noisy(torch.stack([r[s] for r, s in zip(ref, shuffles)]), 10.0, seed=2)
    loss, per_utt, perm = PITLoss("si_snr")(est, ref)
    for b, shuffle in enumerate(shuffles):
        assert perm[b].tolist() == torch.argsort(shuffle).tolist()  # reference j sits at estimate argsort[j]
    reordered = reorder_sources(est, perm)
    assert ((reordered - ref).pow(2).sum(-1) < 0.2 * ref.pow(2).sum(-1)).all()  # noise at 10 dB: 0.1 of the energy
    matched = pairwise_neg_si_snr(reordered, ref).diagonal(dim1=1, dim2=2)
    assert torch.allclose(per_utt, matched.mean(-1))
    assert per_utt.max() < -9.0  # about -10 dB: the matched sources are at 10 dB SNR
    assert loss == pytest.approx(per_utt.mean().item())


def brute_force(matrix, num_ref):
    best = min(itertools.permutations(range(matrix.shape[0]), num_ref),
               key=lambda p: np.mean([matrix[p[j], j] for j in range(num_ref)]))
    return np.mean([matrix[best[j], j] for j in range(num_ref)]), list(best)


@pytest.mark.parametrize("num_est,num_ref", [(2, 2), (3, 3), (4, 4), (5, 5), (3, 2), (6, 4)])
def test_pit_equals_brute_force(num_est, num_ref):
    pairwise = torch.randn(16, num_est, num_ref, generator=torch.Generator().manual_seed(num_est * 10 + num_ref))
    loss, perm = pit_loss(pairwise)
    for b in range(16):
        value, best = brute_force(pairwise[b].numpy(), num_ref)
        assert loss[b].item() == pytest.approx(value, abs=1e-6)
        assert perm[b].tolist() == best


def test_padding_is_ignored(speech):
    ref = speech[:2].float()
    length = ref.shape[-1]
    short = length - 700
    est = noisy(ref[None], 5.0, seed=5)[0].float()
    garbage = torch.randn(2, 2, 300, generator=torch.Generator().manual_seed(6))
    for kind in ("si_snr", "snr", "sd_sdr"):
        padded_est = torch.stack([est, torch.cat([est[:, :short], garbage[0], torch.zeros(2, 400)], -1)])
        padded_est.requires_grad_(True)
        padded_ref = torch.stack([ref, torch.cat([ref[:, :short], garbage[1], torch.ones(2, 400)], -1)])
        _, per_utt, _ = PITLoss(kind)(padded_est, padded_ref, lengths=torch.tensor([length, short]))
        _, alone, _ = PITLoss(kind)(est[None, :, :short], ref[None, :, :short])
        _, full, _ = PITLoss(kind)(est[None], ref[None])
        assert per_utt[1].item() == pytest.approx(alone.item(), abs=1e-4)
        assert per_utt[0].item() == pytest.approx(full.item(), abs=1e-4)
        per_utt.sum().backward()
        assert padded_est.grad[1, :, short:].abs().max() == 0
        assert padded_est.grad[1, :, :short].abs().max() > 0


def test_threshold_rule():
    losses = torch.tensor([-35.0, -10.0, -30.0, -20.0], requires_grad=True)
    assert threshold_mean(losses, None).item() == pytest.approx(-23.75)
    kept = threshold_mean(losses, -30.0)  # -35 and -30 (at the threshold) are left out
    assert kept.item() == pytest.approx(-15.0)
    kept.backward()
    assert losses.grad.tolist() == [0.0, 0.5, 0.0, 0.5]
    losses.grad = None
    none_kept = threshold_mean(losses, 0.0)
    assert none_kept.item() == 0.0 and none_kept.requires_grad
    none_kept.backward()
    assert losses.grad.tolist() == [0.0] * 4
    assert torch.isnan(threshold_mean(torch.tensor([-40.0, float("nan")]), -30.0))


def test_threshold_in_pit_loss(speech):
    ref = speech[None, :2].repeat(2, 1, 1).float()
    est = torch.stack([noisy(ref[:1], 40.0, seed=7)[0], noisy(ref[:1], 5.0, seed=8)[0]])  # 40 dB and 5 dB
    loss, per_utt, _ = PITLoss("si_snr", threshold=-30.0)(est, ref)
    assert per_utt[0] < -30.0 < per_utt[1]
    assert loss.item() == pytest.approx(per_utt[1].item())


@pytest.mark.parametrize("kind", ["si_snr", "snr", "sd_sdr"])
def test_gradients_flow_and_training_improves(speech, kind):
    ref = speech[None, :2].float()
    est = noisy(ref, 0.0, seed=9)[:, [1, 0]].clone().requires_grad_(True)
    criterion = PITLoss(kind)
    optimizer = torch.optim.Adam([est], lr=1e-3)
    first = None
    for _ in range(20):
        with torch.autocast("cpu", dtype=torch.bfloat16):  # the loss itself runs in float32
            loss, _, perm = criterion(est, ref)
        assert loss.dtype == torch.float32
        optimizer.zero_grad()
        loss.backward()
        assert torch.isfinite(est.grad).all() and est.grad.abs().max() > 0
        optimizer.step()
        first = loss.item() if first is None else first
    assert perm[0].tolist() == [1, 0]
    assert loss.item() < first - 0.5


def test_unknown_kind_is_a_config_error():
    with pytest.raises(ConfigError, match="expected one of"):
        PITLoss("sisdr")
