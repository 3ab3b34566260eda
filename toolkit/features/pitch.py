"""Frame-level F0 with WORLD (pyworld) on the mel frame grid, and log-F0 interpolation.

Methods: dio + stonemask (default): DIO's coarse F0 refined by StoneMask, the fastest
and the usual choice of FastSpeech 2 / ESPnet TTS recipes; harvest: more robust
voicing decisions and fewer octave errors on low or breathy voices, but about three
times slower. f0min/f0max bound the search (60-500 Hz
covers most adult speech; raise f0min for high voices to avoid subharmonics).

WORLD frame i is centred at i * frame_period, the frame period being hop / rate: that is
the centre of log-mel frame i with center=True. WORLD gives int(1000 n / rate / period)
+ 1 frames for n samples, which is the mel's 1 + n // hop up to float rounding:
`fit_frames` trims extra frames at the end or repeats the last frame, and refuses
differences of more than one frame (a different signal or hop, not rounding).
"""
import warnings

import numpy as np

from toolkit.utils.errors import ConfigError, DataError

F0_METHODS = ("dio", "harvest")


def pyworld_module():
    try:
        with warnings.catch_warnings():  # pyworld 0.3.5 imports the deprecated pkg_resources
            warnings.simplefilter("ignore", UserWarning)
            import pyworld
    except ImportError as err:
        raise ConfigError(f"pitch extraction needs pyworld ({err}): pip install pyworld==0.3.5 "
                          f"(its import needs setuptools<82, which still has pkg_resources)") from None
    return pyworld


def fit_frames(values, num_frames):
    """values [n] trimmed at the end or padded by repeating its last value to [num_frames]."""
    if abs(len(values) - num_frames) > 1:
        raise ValueError(f"{len(values)} F0 frames for {num_frames} mel frames: more than rounding apart")
    if len(values) >= num_frames:
        return values[:num_frames]
    return np.concatenate([values, np.repeat(values[-1:], num_frames - len(values))])


def world_f0(x, sample_rate, method, f0min, f0max, frame_period):
    """(F0 in Hz, 0 = unvoiced; frame times) of float64 samples x by WORLD dio + stonemask or harvest."""
    if method not in F0_METHODS:
        raise ConfigError(f"f0 method {method!r}: expected one of {', '.join(F0_METHODS)}")
    if not 0 < f0min < f0max:
        raise ConfigError(f"f0min {f0min} and f0max {f0max}: need 0 < f0min < f0max")
    world = pyworld_module()
    if method == "dio":
        f0, times = world.dio(x, sample_rate, f0_floor=f0min, f0_ceil=f0max, frame_period=frame_period)
        return world.stonemask(x, f0, times, sample_rate), times
    return world.harvest(x, sample_rate, f0_floor=f0min, f0_ceil=f0max, frame_period=frame_period)


def extract_f0(samples, sample_rate, hop_length, num_frames, method="dio", f0min=60.0, f0max=500.0):
    """F0 in Hz [num_frames] (float64, 0 = unvoiced) of mono float samples, one value per mel frame."""
    x = np.ascontiguousarray(samples, dtype=np.float64)
    f0, _ = world_f0(x, sample_rate, method, f0min, f0max, 1000.0 * hop_length / sample_rate)
    return fit_frames(f0, num_frames)


def interpolate_log_f0(f0):
    """(log-F0 [n] linearly interpolated over unvoiced frames, held flat at the ends; voiced mask [n])."""
    f0 = np.asarray(f0, dtype=np.float64)
    voiced = f0 > 0
    if not voiced.any():
        raise DataError("no voiced frame: silent or unpitched audio (or f0min/f0max exclude the voice); "
                        "check the audio or drop the utterance")
    frames = np.arange(len(f0))
    return np.interp(frames, frames[voiced], np.log(f0[voiced])), voiced
