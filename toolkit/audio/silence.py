"""Frame energy, silent runs, and the bounds that trim leading/trailing silence.

Energies are mean-square power in dB of consecutive non-overlapping frames of `hop`
samples (channels averaged; the last frame may be shorter). Silence thresholds are
relative to the loudest frame of the signal (0 dB = loudest frame), so one setting
works for quiet and loud recordings alike. A signal whose loudest frame is at or
below ENERGY_FLOOR_DB (digital silence) is silent everywhere.
"""
import math

import numpy as np

ENERGY_FLOOR_DB = -100.0


def frame_energy_db(samples, hop):
    """Energy in dB of each `hop`-sample frame of a [time] or [time, channel] signal."""
    frames = samples[:, None] if samples.ndim == 1 else samples
    full = frames.shape[0] // hop * hop
    blocks = np.square(frames[:full]).reshape(full // hop, hop * frames.shape[1])
    power = np.mean(blocks, axis=1, dtype=np.float64)
    if full < frames.shape[0]:
        power = np.append(power, np.mean(np.square(frames[full:]), dtype=np.float64))
    return 10 * np.log10(np.maximum(power, 10 ** (ENERGY_FLOOR_DB / 10)))


def silent_mask(energy_db, threshold_db):
    """Boolean mask of frames below `threshold_db` relative to the loudest frame."""
    if not len(energy_db) or energy_db.max() <= ENERGY_FLOOR_DB:
        return np.ones(len(energy_db), dtype=bool)
    return energy_db < energy_db.max() + threshold_db


def runs(mask):
    """[(start, end), ...] frame ranges of the maximal runs of True in `mask`."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def trim_bounds(samples, fs, threshold_db=-40.0, min_silence=0.1, keep=0.05, hop=0.01):
    """(first, last) sample range without leading/trailing silence.

    A leading or trailing silent run is trimmed only if it lasts at least
    `min_silence` seconds; `keep` seconds of it stay next to the sound.
    Trimming is exact to one frame of `hop` seconds. A signal that is silent
    everywhere is returned whole: (0, len).
    """
    num = samples.shape[0]
    hop_samples = max(1, round(hop * fs))
    silent = silent_mask(frame_energy_db(samples, hop_samples), threshold_db)
    if silent.all():
        return 0, num
    voiced = np.flatnonzero(~silent)
    min_frames = math.ceil(min_silence / hop - 1e-9)
    keep_samples = round(keep * fs)
    first, last = 0, num
    if voiced[0] >= min_frames:
        first = max(0, voiced[0] * hop_samples - keep_samples)
    if len(silent) - 1 - voiced[-1] >= min_frames:
        last = min(num, (voiced[-1] + 1) * hop_samples + keep_samples)
    return first, last
