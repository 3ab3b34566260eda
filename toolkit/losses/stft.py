"""Spectral reconstruction losses for vocoders: log-mel L1 (HiFi-GAN) and multi-resolution STFT
(Parallel WaveGAN). Both run in float32 with autocast off: log spectra of bf16/fp16 audio are too coarse.
"""
import torch

from toolkit.features.logmel import LogMel

# (n_fft, hop, win) of Parallel WaveGAN (Yamamoto et al., 2020).
PWG_RESOLUTIONS = ((1024, 120, 600), (2048, 240, 1200), (512, 50, 240))


def _fp32(wave):
    return wave.float().reshape(-1, wave.shape[-1])


class MelL1Loss(torch.nn.Module):
    """mean |LogMel(fake) - LogMel(real)| over the frames inside each utterance.

    `mel_kwargs` are LogMel's (sample_rate, n_fft, hop_length, win_length, n_mels, fmin, fmax).
    With `lengths` (samples), frames past 1 + length // hop are left out.
    """

    def __init__(self, **mel_kwargs):
        super().__init__()
        self.mel = LogMel(**mel_kwargs)

    def forward(self, fake, real, lengths=None):
        """fake, real: [B, samples] or [B, 1, samples]; lengths: [B] or None."""
        with torch.autocast(fake.device.type, enabled=False):
            diff = (self.mel(_fp32(fake)) - self.mel(_fp32(real))).abs()  # [B, frames, n_mels]
        if lengths is None:
            return diff.mean()
        frames = 1 + lengths.to(diff.device) // self.mel.hop_length
        mask = torch.arange(diff.shape[1], device=diff.device)[None, :] < frames[:, None]
        return (diff * mask[..., None]).sum() / (mask.sum() * diff.shape[-1]).clamp(min=1)


class STFTLoss(torch.nn.Module):
    """Spectral convergence ||Y| - |X||_F / ||Y||_F plus mean |log|Y| - log|X|| at one resolution.

    Magnitudes are sqrt(max(re^2 + im^2, eps)); Hann window, centred frames with reflect padding.
    The Frobenius norms run over the whole batch, as in Parallel WaveGAN.
    """

    def __init__(self, n_fft=1024, hop_length=256, win_length=None, eps=1e-7):
        super().__init__()
        self.n_fft, self.hop_length, self.win_length, self.eps = n_fft, hop_length, win_length or n_fft, eps
        self.register_buffer("window", torch.hann_window(self.win_length), persistent=False)

    def magnitude(self, wave):
        spec = torch.stft(wave, self.n_fft, self.hop_length, self.win_length, self.window, return_complex=True)
        return torch.sqrt(torch.clamp(spec.real ** 2 + spec.imag ** 2, min=self.eps))

    def forward(self, fake, real):
        """fake, real: [B, samples] or [B, 1, samples] -> (spectral convergence, log-magnitude L1)."""
        with torch.autocast(fake.device.type, enabled=False):
            fake_mag, real_mag = self.magnitude(_fp32(fake)), self.magnitude(_fp32(real))
            convergence = torch.linalg.norm(real_mag - fake_mag) / torch.linalg.norm(real_mag)
            log_mag = (torch.log(real_mag) - torch.log(fake_mag)).abs().mean()
        return convergence, log_mag


class MultiResolutionSTFTLoss(torch.nn.Module):
    """Mean over resolutions of STFTLoss (spectral convergence + log magnitude); returns a scalar."""

    def __init__(self, resolutions=PWG_RESOLUTIONS, eps=1e-7):
        super().__init__()
        self.losses = torch.nn.ModuleList(STFTLoss(n, h, w, eps) for n, h, w in resolutions)

    def forward(self, fake, real):
        return sum(sum(loss(fake, real)) for loss in self.losses) / len(self.losses)
