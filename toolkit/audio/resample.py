"""Sample-rate conversion and channel downmix of [time] / [time, channel] float arrays."""
import numpy as np
import torch
import torchaudio.functional as F

DOWNMIX_MODES = ("mean", "left", "right", "none")


def resample(samples, orig_fs, new_fs):
    """Band-limited sinc resampling (torchaudio); returns the input unchanged when the rates match."""
    if orig_fs == new_fs:
        return samples
    wave = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32).T)
    return F.resample(wave, int(orig_fs), int(new_fs)).numpy().T


def downmix(samples, mode):
    """Reduce [time, channel] to mono [time]: 'mean' of channels, 'left' (first), 'right' (second).

    Mono input and mode 'none' return the input unchanged.
    """
    if mode not in DOWNMIX_MODES:
        raise ValueError(f"downmix mode {mode!r}: expected one of {DOWNMIX_MODES}")
    if samples.ndim == 1 or mode == "none":
        return samples
    if samples.shape[1] == 1:
        return samples[:, 0]
    if mode == "mean":
        return samples.mean(axis=1)
    return samples[:, 0 if mode == "left" else 1]
