"""Noise clips for augmentation: white, pink, brown, mains hum and babble.

Every clip is scaled to an RMS of -26 dBFS, then down further if needed so its
peak stays at or below 0.9.
"""
import numpy as np

from toolkit.corpus.mixtures import active_level_db

CATEGORIES = ("white", "pink", "brown", "hum", "babble")
RMS_DB = -26.0
PEAK = 0.9
BABBLE_TALKERS = 5


def _normalise(x):
    x = x * 10 ** (RMS_DB / 20) / np.sqrt(np.mean(x ** 2))
    return x * min(1.0, PEAK / np.abs(x).max())


def colored_noise(rng, n, exponent):
    """Gaussian noise with power spectrum ~ 1/f**exponent (0 white, 1 pink, 2 brown), no DC."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n)
    freqs[0] = np.inf  # removes DC
    return np.fft.irfft(spectrum / freqs ** (exponent / 2), n)


def hum(rng, n, fs):
    """Mains hum: 50 or 60 Hz with up to 12 harmonics of random amplitude (~1/k) and phase, plus a faint hiss."""
    f0 = rng.choice([50.0, 60.0])
    t = np.arange(n) / fs
    x = np.zeros(n)
    for k in range(1, 13):
        if k * f0 < 0.45 * fs:
            x += rng.uniform(0.2, 1.0) / k * np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 2 * np.pi))
    return x + 10 ** (-40 / 20) * np.sqrt(np.mean(x ** 2)) * rng.standard_normal(n)


def babble(rng, n, fs, talkers):
    """Sum of `talkers` streams, each one speaker's utterances end to end at equal active level.

    talkers: [[float arrays of one speaker], ...]; each stream starts at a random utterance.
    """
    x = np.zeros(n)
    for utterances in talkers:
        order = np.roll(np.arange(len(utterances)), -rng.integers(len(utterances)))
        stream, filled = [], 0
        while filled < n:
            for i in order:
                u = utterances[i]
                stream.append(u * 10 ** (-active_level_db(u, fs) / 20))
                filled += len(u)
                if filled >= n:
                    break
        x += np.concatenate(stream)[:n]
    return x


def noise_clip(category, rng, n, fs, talkers=None):
    """One normalised clip of `n` samples; `talkers` is needed for babble."""
    if category == "hum":
        x = hum(rng, n, fs)
    elif category == "babble":
        x = babble(rng, n, fs, talkers)
    else:
        x = colored_noise(rng, n, CATEGORIES.index(category))
    return _normalise(x)
