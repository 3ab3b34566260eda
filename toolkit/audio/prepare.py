"""One utterance through the preparation chain: downmix, resample, trim, normalise (peak-limited).

Trimming comes before normalisation so that removed silence does not bias the
measured level. A step that would change nothing is skipped and not listed in
`PrepareResult.steps`, so an utterance with no steps can be used as it is.
"""
import dataclasses
from typing import List, Optional

from toolkit.audio.levels import apply_gain, limited_gain, measure_level, peak_db
from toolkit.audio.resample import downmix, resample
from toolkit.audio.silence import trim_bounds

MIN_GAIN_DB = 0.01  # smaller gains are skipped as no change


@dataclasses.dataclass
class PrepareOptions:
    fs: int = 16000
    downmix: str = "mean"  # mean | left | right | none
    normalize: str = "none"  # none | rms (dBFS) | lufs (BS.1770)
    target_level: float = -23.0
    peak_limit_db: float = -1.0  # normalised peaks stay at or below this; without normalisation: 0 dBFS
    trim: bool = False
    trim_threshold_db: float = -40.0  # relative to the loudest 10 ms frame
    trim_min_silence: float = 0.1
    trim_keep: float = 0.05
    hop: float = 0.01


@dataclasses.dataclass
class PrepareResult:
    steps: List[str] = dataclasses.field(default_factory=list)
    level_db: Optional[float] = None  # level before the gain, by the normalisation method
    gain_db: float = 0.0
    clip_limited: bool = False
    trim_start: float = 0.0  # seconds removed at the start / end
    trim_end: float = 0.0
    note: str = ""


def prepare(samples, fs, opts):
    """(samples at opts.fs, PrepareResult) for a [time] / [time, channel] float signal at rate `fs`."""
    result = PrepareResult()
    mixed = downmix(samples, opts.downmix)
    if mixed.shape != samples.shape:
        result.steps.append("downmix")
    samples = mixed
    if fs != opts.fs:
        samples = resample(samples, fs, opts.fs)
        result.steps.append("resample")
    if opts.trim:
        first, last = trim_bounds(samples, opts.fs, opts.trim_threshold_db, opts.trim_min_silence,
                                  opts.trim_keep, opts.hop)
        if (first, last) != (0, samples.shape[0]):
            result.trim_start, result.trim_end = first / opts.fs, (samples.shape[0] - last) / opts.fs
            samples = samples[first:last]
            result.steps.append("trim")
    gain = 0.0
    if opts.normalize != "none":
        result.level_db = measure_level(samples, opts.fs, opts.normalize)
        if result.level_db is None:
            result.note = (f"level unmeasurable by {opts.normalize} (silent, or under 0.4 s for lufs): "
                           "not normalised")
        else:
            gain = opts.target_level - result.level_db
    ceiling = opts.peak_limit_db if opts.normalize != "none" else 0.0
    gain, result.clip_limited = limited_gain(gain, peak_db(samples), ceiling)
    if abs(gain) >= MIN_GAIN_DB:
        samples = apply_gain(samples, gain)
        result.gain_db = gain
        result.steps.append("gain")
    return samples, result
