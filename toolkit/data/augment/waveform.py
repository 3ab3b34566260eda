"""Waveform augmentations: the op protocol, speed perturbation on the fly, random gain.

An op works on float [time] or [time, channel] numpy samples and a numpy
Generator: `draw(rng, samples, rate)` picks the random parameters as a dict of
plain values, `apply(samples, rate, **params)` uses them; calling the op does both.
"""
import numpy as np

from toolkit.audio.levels import apply_gain
from toolkit.data.augment.conf import check_range
from toolkit.data.speed_perturb import change_speed
from toolkit.utils.errors import ConfigError


class WaveOp:
    """Base of the waveform ops."""

    def draw(self, rng, samples, rate):
        raise NotImplementedError

    def apply(self, samples, rate, **params):
        raise NotImplementedError

    def __call__(self, samples, rate, rng):
        return self.apply(samples, rate, **self.draw(rng, samples, rate))


class SpeedPerturb(WaveOp):
    """Play `factor` times faster (a factor drawn from `factors`), like sox `speed`.

    Resampling changes duration by 1/factor and pitch by factor; the output
    length is ceil(len / factor).
    """

    def __init__(self, factors):
        if not isinstance(factors, (list, tuple)) or not factors or any(float(f) <= 0 for f in factors):
            raise ConfigError(f"speed: factors must be a non-empty list of positive numbers, got {factors!r}")
        self.factors = [float(f) for f in factors]

    def draw(self, rng, samples, rate):
        return {"factor": self.factors[rng.integers(len(self.factors))]}

    def apply(self, samples, rate, factor):
        samples = np.asarray(samples, dtype=np.float32)
        if factor == 1:
            return samples
        out = change_speed(samples.reshape(samples.shape[0], -1), rate, factor)
        return out[:, 0] if samples.ndim == 1 else out


class Gain(WaveOp):
    """Multiply by a gain drawn uniformly in `db` = [low, high] decibels (no clipping)."""

    def __init__(self, db):
        self.low, self.high = check_range("gain: db", db)

    def draw(self, rng, samples, rate):
        return {"db": float(rng.uniform(self.low, self.high))}

    def apply(self, samples, rate, db):
        return apply_gain(samples, db)
