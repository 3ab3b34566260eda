"""Additive noise from a noise wav.scp at a signal-to-noise ratio drawn uniformly in dB."""
import numpy as np

from toolkit.data.augment.bank import AudioBank
from toolkit.data.augment.conf import check_range
from toolkit.data.augment.waveform import WaveOp


def add_noise(samples, noise, snr_db):
    """samples + noise scaled so that mean(samples^2) / mean(scaled^2) is `snr_db` dB.

    `noise` is [time] with the length of `samples` ([time] or [time, channel]:
    the same noise on every channel). Silent speech or noise is returned unchanged.
    """
    samples = np.asarray(samples, dtype=np.float32)
    speech_power = np.mean(np.square(samples, dtype=np.float64))
    noise_power = np.mean(np.square(noise, dtype=np.float64))
    if speech_power == 0 or noise_power == 0:
        return samples
    scale = np.sqrt(speech_power / (noise_power * 10 ** (snr_db / 10)))
    noise = noise if samples.ndim == 1 else noise[:, None]
    return (samples + scale * noise).astype(np.float32)


class AddNoise(WaveOp):
    """Add a noise clip from `noise_scp` at an SNR uniform in `snr` = [low, high] dB.

    The clip starts at a random offset and is looped when shorter than the
    audio, cropped when longer.
    """

    def __init__(self, noise_scp, snr, resample=False, cache_size=8):
        self.low, self.high = check_range("noise: snr", snr)
        self.bank = AudioBank(noise_scp, resample=resample, cache_size=cache_size)

    def draw(self, rng, samples, rate):
        key = self.bank.keys[rng.integers(len(self.bank.keys))]
        clip_len = len(self.bank.get(key, rate))
        span = clip_len - len(samples) + 1 if clip_len >= len(samples) else clip_len
        offset = int(rng.integers(span))
        return {"noise": key, "offset": offset, "snr_db": float(rng.uniform(self.low, self.high))}

    def apply(self, samples, rate, noise, offset, snr_db):
        clip = self.bank.get(noise, rate)
        return add_noise(samples, np.take(clip, offset + np.arange(len(samples)), mode="wrap"), snr_db)
