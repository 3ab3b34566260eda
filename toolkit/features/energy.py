"""Frame energy on the log-mel's STFT grid: log of the L2 norm of each frame's magnitude spectrum.

The STFT is LogMel's (torchaudio, periodic Hann window of win_length, reflect padding
with center=True), so there are exactly as many energy frames as mel frames. The log
(natural, floored by eps as LogMel's log_floor) turns the orders of magnitude between
silence and loud vowels into a range where mean/std normalisation and an MSE-trained
predictor behave; FastSpeech 2 predicts the linear norm instead.
"""
import numpy as np
import torch
import torchaudio


def frame_log_energy(samples, n_fft=1024, hop_length=256, win_length=None, center=True, pad_mode="reflect",
                     eps=1e-5):
    """log(||STFT magnitude of frame t||_2 + eps) [frames] (float64) of mono float samples in [-1, 1]."""
    spectrogram = torchaudio.transforms.Spectrogram(n_fft=n_fft, win_length=win_length or n_fft,
                                                    hop_length=hop_length, center=center, pad_mode=pad_mode,
                                                    power=2.0)
    with torch.no_grad():
        power = spectrogram(torch.as_tensor(np.asarray(samples, dtype=np.float32)))  # [freq, frames]
    return np.log(np.sqrt(power.double().sum(0).numpy()) + eps)
