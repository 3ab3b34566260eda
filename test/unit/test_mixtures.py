"""wsj0-2mix style mixing and noise clips of the mini_synth corpus, on synthetic signals."""
import numpy as np
import pytest
from scipy import signal, stats

from toolkit.corpus import noise
from toolkit.corpus.mixtures import active_level_db, mix_pair, mixture_id, plan_mixtures

FS = 8000


def _bursts(rng, n, amplitude):
    """Speech-like on/off signal: 0.3 s tone bursts with noise, separated by near-silence."""
    t = np.arange(n) / FS
    gate = (np.floor(t / 0.3) % 2 == 0).astype(float)
    x = amplitude * gate * (np.sin(2 * np.pi * 220 * t) + 0.3 * rng.standard_normal(n))
    return x + 1e-5 * rng.standard_normal(n)


def test_active_level_ignores_silence():
    tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(FS) / FS)
    padded = np.concatenate([np.zeros(FS), tone, 1e-6 * np.ones(2 * FS)])
    expected = 10 * np.log10(0.5 ** 2 / 2)
    assert active_level_db(padded, FS) == pytest.approx(expected, abs=0.01)
    assert 10 * np.log10(np.mean(padded ** 2)) < expected - 5  # plain RMS would count the silence


def test_mix_pair_levels_truncation_gain_and_exact_sum():
    rng = np.random.default_rng(0)
    x1, x2 = _bursts(rng, 3 * FS, 0.05), _bursts(rng, 2 * FS + 123, 0.7)
    mix, s1, s2 = mix_pair(x1, x2, 1.7, FS)
    assert len(mix) == len(s1) == len(s2) == 2 * FS + 123  # 'min' mode
    assert mix.dtype == np.int16 and np.array_equal(mix.astype(np.int32), s1.astype(np.int32) + s2)
    peaks = [np.abs(x.astype(np.int32)).max() / 32768 for x in (mix, s1, s2)]
    assert max(peaks) == pytest.approx(0.9, abs=2 / 32768)
    level = active_level_db(s1 / 32768, FS) - active_level_db(s2 / 32768, FS)
    assert level == pytest.approx(3.4, abs=0.01)
    # each written source is its input, truncated and scaled by one gain
    for written, source in ((s1, x1), (s2, x2)):
        gain = np.dot(written, source[:len(written)]) / np.dot(source[:len(written)], source[:len(written)])
        assert np.abs(written - gain * source[:len(written)]).max() <= 0.51


def test_plan_mixtures_different_speakers_unique_ids_uniform_levels():
    utts = [(f"s{s}-{i:03d}", f"s{s}", 1000 + 37 * i) for s in range(4) for i in range(50)]
    plan = plan_mixtures(utts, np.random.default_rng(0), count=2000)
    assert len(plan) == len({m for m, *_ in plan}) == 2000
    assert all(u1.split("-")[0] != u2.split("-")[0] for _, u1, u2, _ in plan)
    assert all(m == mixture_id(u1, u2, h) for m, u1, u2, h in plan)
    relative = np.array([2 * h for *_, h in plan])
    assert relative.min() >= 0 and relative.max() <= 5
    assert stats.kstest(relative, stats.uniform(0, 5).cdf).pvalue > 0.01


def test_plan_mixtures_stops_at_total_samples():
    utts = [(f"s{s}-{i}", f"s{s}", 1000) for s in range(3) for i in range(5)]
    plan = plan_mixtures(utts, np.random.default_rng(1), total_samples=10_500)
    assert len(plan) == 11


@pytest.mark.parametrize("category, slope", [("white", 0.0), ("pink", -1.0), ("brown", -2.0)])
def test_colored_noise_spectral_slope(category, slope):
    x = noise.noise_clip(category, np.random.default_rng(0), 4 * FS, FS)
    freqs, psd = signal.welch(x, FS, nperseg=1024)
    band = (freqs > 50) & (freqs < 3000)
    fitted = np.polyfit(np.log10(freqs[band]), np.log10(psd[band]), 1)[0]
    assert fitted == pytest.approx(slope, abs=0.15)
    assert 20 * np.log10(np.sqrt(np.mean(x ** 2))) <= noise.RMS_DB + 1e-6 and np.abs(x).max() <= noise.PEAK


def test_hum_is_mains_harmonics_and_babble_sums_talkers():
    x = noise.noise_clip("hum", np.random.default_rng(3), 2 * FS, FS)
    freqs, psd = signal.welch(x, FS, nperseg=4096)
    assert freqs[np.argmax(psd)] % 50 < 3 or freqs[np.argmax(psd)] % 60 < 3
    rng = np.random.default_rng(0)
    talkers = [[_bursts(rng, FS // 2, a)] for a in (0.1, 0.5, 0.9)]
    babble = noise.noise_clip("babble", np.random.default_rng(1), 3 * FS, FS, talkers)
    assert len(babble) == 3 * FS and 20 * np.log10(np.sqrt(np.mean(babble ** 2))) == pytest.approx(-26, abs=0.01)
