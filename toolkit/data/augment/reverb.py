"""Reverberation: convolution with a room impulse response from an RIR scp."""
import numpy as np
import torch
import torchaudio.functional as F

from toolkit.data.augment.bank import AudioBank
from toolkit.data.augment.waveform import WaveOp


def reverberate(samples, rir):
    """Convolve [time] or [time, channel] samples with the [taps] `rir`.

    The output keeps the input length and timing (it starts at the RIR's
    direct-path peak, the largest |tap|) and the input's RMS level.
    """
    samples = np.asarray(samples, dtype=np.float32)
    wave = torch.from_numpy(np.ascontiguousarray(samples.T))
    wet = F.fftconvolve(wave, torch.from_numpy(rir).expand(*wave.shape[:-1], -1))
    direct = int(np.argmax(np.abs(rir)))
    wet = wet[..., direct:direct + samples.shape[0]].numpy().T
    dry_power = np.mean(np.square(samples, dtype=np.float64))
    wet_power = np.mean(np.square(wet, dtype=np.float64))
    if wet_power == 0:
        return samples
    return (wet * np.sqrt(dry_power / wet_power)).astype(np.float32)


class Reverb(WaveOp):
    """Convolve with an RIR drawn uniformly from `rir_scp`."""

    def __init__(self, rir_scp, resample=False, cache_size=8):
        self.bank = AudioBank(rir_scp, resample=resample, cache_size=cache_size)

    def draw(self, rng, samples, rate):
        return {"rir": self.bank.keys[rng.integers(len(self.bank.keys))]}

    def apply(self, samples, rate, rir):
        return reverberate(samples, self.bank.get(rir, rate))
