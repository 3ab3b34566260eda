"""Two-speaker mixtures made the wsj0-2mix way.

For a pair of utterances by different speakers and a relative level g drawn
uniformly in 0..5 dB: both are truncated to the shorter ('min' mode), s1 is
scaled to an active level of +g/2 dB and s2 to -g/2 dB, then one common gain
brings the largest peak of mix, s1 and s2 to 0.9. The written sources are the
scaled, truncated int16 sources and the mixture is their exact int16 sum.

Active level: mean square over the active 20 ms frames (non-overlapping; a
trailing partial frame is ignored), a frame being active when its mean square
is within 40 dB of the loudest frame's. Mixture ids follow wsj0-2mix:
`<utt1>_<+g/2>_<utt2>_<-g/2>` with 4 decimals.
"""
import os

import numpy as np

from toolkit.corpus.synthesis import to_int16
from toolkit.data.audio_io import read_audio, write_audio

FRAME_SECONDS = 0.02
ACTIVE_RANGE_DB = 40.0
MAX_LEVEL_DB = 5.0
PEAK = 0.9


def active_level_db(x, fs):
    """Active speech level of `x` in dB (10 log10 of the mean square over active frames)."""
    frame = int(round(FRAME_SECONDS * fs))
    x = np.asarray(x, dtype=np.float64)
    power = (x[: len(x) // frame * frame].reshape(-1, frame) ** 2).mean(axis=1)
    active = power[power >= power.max() * 10 ** (-ACTIVE_RANGE_DB / 10)]
    return 10 * np.log10(max(active.mean(), 1e-20))


def mixture_id(utt1, utt2, half_db):
    return f"{utt1}_{half_db:.4f}_{utt2}_{-half_db:.4f}"


def plan_mixtures(utts, rng, count=None, total_samples=None):
    """Draw mixtures from `utts` [(utt, spk, num_samples)] with a NumPy Generator.

    Stops at `count` mixtures, or once the mixtures (each as long as its
    shorter utterance) total `total_samples`. Returns [(mix_id, utt1, utt2,
    half_db)], ids unique; the two utterances always have different speakers.
    """
    if len({spk for _, spk, _ in utts}) < 2:
        raise ValueError("mixtures need utterances of at least two speakers")
    plan, ids, total = [], set(), 0
    while (count is not None and len(plan) < count) or (total_samples is not None and total < total_samples):
        (u1, s1, n1), (u2, s2, n2) = (utts[i] for i in rng.choice(len(utts), size=2, replace=False))
        half_db = round(float(rng.uniform(0.0, MAX_LEVEL_DB / 2)), 4)
        mix = mixture_id(u1, u2, half_db)
        if s1 == s2 or mix in ids:
            continue
        ids.add(mix)
        plan.append((mix, u1, u2, half_db))
        total += min(n1, n2)
    return plan


def mix_pair(x1, x2, half_db, fs):
    """(mix, s1, s2) as int16: truncate, set active levels to +-half_db, common gain to peak PEAK."""
    n = min(len(x1), len(x2))
    s1 = x1[:n] * 10 ** ((half_db - active_level_db(x1[:n], fs)) / 20)
    s2 = x2[:n] * 10 ** ((-half_db - active_level_db(x2[:n], fs)) / 20)
    gain = PEAK / max(np.abs(s1 + s2).max(), np.abs(s1).max(), np.abs(s2).max())
    q1, q2 = to_int16(s1 * gain), to_int16(s2 * gain)
    return (q1.astype(np.int32) + q2).astype(np.int16), q1, q2


def make_mixtures(job):
    """Write the mixtures of one job {"fs", "items": [(mix_id, path1, path2, half_db, out_paths)]}.

    out_paths = (mix, s1, s2) wav paths. Returns [(mix_id, num_samples)].
    """
    fs, done = job["fs"], []
    for mix_id, path1, path2, half_db, out_paths in job["items"]:
        x1, _ = read_audio(path1, dtype="float64")
        x2, _ = read_audio(path2, dtype="float64")
        signals = mix_pair(x1, x2, half_db, fs)
        for path, signal in zip(out_paths, signals):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            write_audio(path, signal, fs)
        done.append((mix_id, len(signals[0])))
    return done
