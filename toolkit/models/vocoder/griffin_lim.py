"""Griffin-Lim vocoder: the training-free fallback for our log-mel features.

exp(log-mel) -> linear magnitude through the minimum-norm least-squares inverse of the mel
filterbank, clipped at zero (what torchaudio's InverseMelScale computes, with the inverse
computed once) -> torchaudio.functional.griffinlim (fast Griffin-Lim, momentum 0.99).
"""
import torch
import torchaudio

from toolkit.features.logmel import LogMel
from toolkit.models.vocoder.hifigan import mel_batch


class GriffinLim(torch.nn.Module):
    """`mel_kwargs` are those of the features' LogMel (sample_rate, n_fft, hop_length, win_length, n_mels,
    fmin, fmax, power, norm, mel_scale); the initial phase is zero, so the output is deterministic."""

    def __init__(self, n_iter=32, momentum=0.99, **mel_kwargs):
        super().__init__()
        logmel = LogMel(**mel_kwargs)
        spec = logmel.mel.spectrogram
        self.n_fft, self.hop_length, self.win_length = spec.n_fft, spec.hop_length, spec.win_length
        self.power = spec.power
        self.n_mels, self.n_iter, self.momentum = logmel.mel.n_mels, n_iter, momentum
        self.register_buffer("window", spec.window.clone(), persistent=False)
        fb = logmel.mel.mel_scale.fb  # [n_freqs, n_mels]: mel = fb^T spec
        self.register_buffer("inverse", torch.linalg.pinv(fb.T.double()).float(), persistent=False)

    def linear(self, mel):
        """Log-mel [B, frames, n_mels] -> non-negative linear spectrogram [B, n_freqs, frames]."""
        return torch.relu(self.inverse @ torch.exp(mel).transpose(1, 2))

    @torch.no_grad()
    def inference(self, mel):
        """Time-major log-mel [frames, n_mels] or [B, frames, n_mels] -> wave [(frames - 1) * hop] or [B, ...].

        (frames - 1) * hop is the shortest length whose centred analysis has `frames` frames (HiFi-GAN
        gives frames * hop: one hop more, which the same analysis turns into frames + 1).
        """
        batch, single = mel_batch(mel, self.n_mels)
        spec = self.linear(batch.float())
        wave = torchaudio.functional.griffinlim(spec, self.window, self.n_fft, self.hop_length, self.win_length,
                                                self.power, self.n_iter, self.momentum,
                                                length=(spec.shape[-1] - 1) * self.hop_length, rand_init=False)
        return wave[0] if single else wave
