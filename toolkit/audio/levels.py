"""Signal levels in dB and the gain that brings a signal to a target level without clipping.

RMS is dBFS over all samples and channels (a full-scale sine is -3.01 dBFS).
Loudness is ITU-R BS.1770 K-weighted, gated LUFS from torchaudio.functional.loudness;
it needs at least 0.4 s of audio (one gating block) and up to 5 channels.
"""
import math

import numpy as np
import torch
import torchaudio.functional as F

LEVEL_METHODS = ("rms", "lufs")
LUFS_MIN_SECONDS = 0.4


def rms_db(samples):
    """RMS level in dBFS; -inf for digital silence."""
    power = float(np.mean(np.square(samples, dtype=np.float64))) if samples.size else 0.0
    return 10 * math.log10(power) if power > 0 else -math.inf


def peak_db(samples):
    """Sample peak in dBFS; -inf for digital silence."""
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def loudness_lufs(samples, fs):
    """Integrated loudness in LUFS; None when unmeasurable (shorter than 0.4 s, or all gated as silence)."""
    if samples.shape[0] < round(LUFS_MIN_SECONDS * fs):
        return None
    wave = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32).reshape(samples.shape[0], -1).T)
    value = float(F.loudness(wave.double(), int(fs)))
    return value if math.isfinite(value) else None


def measure_level(samples, fs, method):
    """Level by `method` ('rms' dBFS or 'lufs'); None when it cannot be measured."""
    if method == "rms":
        level = rms_db(samples)
        return level if math.isfinite(level) else None
    if method == "lufs":
        return loudness_lufs(samples, fs)
    raise ValueError(f"level method {method!r}: expected one of {LEVEL_METHODS}")


def limited_gain(gain_db, peak, ceiling_db):
    """(gain_db, limited): `gain_db` lowered, if needed, so that the peak lands at `ceiling_db` at most."""
    headroom = ceiling_db - peak
    if gain_db > headroom:
        return headroom, True
    return gain_db, False


def apply_gain(samples, gain_db):
    """samples * 10^(gain_db/20), as float32."""
    return (samples * 10 ** (gain_db / 20)).astype(np.float32)
