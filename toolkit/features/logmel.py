"""Log-mel spectrogram for TTS and vocoders (torchaudio MelSpectrogram).

Input is float audio in [-1, 1] (no int16 scaling, unlike the Kaldi features).
Output is time-major: [..., frames, n_mels]; with center=True there are
1 + num_samples // hop_length frames.
"""
import torch
import torchaudio


class LogMel(torch.nn.Module):
    """log(max(mel(|STFT|^power), log_floor)) with a Hann window.

    Defaults follow the usual 22.05 kHz TTS setup: n_fft 1024, hop 256, 80 mels,
    magnitude (power 1) mel with Slaney filters and norm, natural log floored at 1e-5.
    """

    def __init__(self, sample_rate=22050, n_fft=1024, hop_length=256, win_length=None, n_mels=80,
                 fmin=0.0, fmax=None, power=1.0, center=True, pad_mode="reflect",
                 norm="slaney", mel_scale="slaney", log_floor=1e-5):
        super().__init__()
        self.sample_rate = int(sample_rate)
        self.hop_length = hop_length
        self.log_floor = log_floor
        win_length = win_length or n_fft
        # Reflect padding needs more than n_fft // 2 samples; without centering, one window.
        self.min_samples = n_fft // 2 + 1 if center else win_length
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=self.sample_rate, n_fft=n_fft, win_length=win_length, hop_length=hop_length,
            f_min=fmin, f_max=fmax, n_mels=n_mels, power=power, center=center, pad_mode=pad_mode,
            norm=norm, mel_scale=mel_scale)

    def forward(self, wave):
        """[..., time] -> [..., frames, n_mels]."""
        mel = self.mel(wave)
        return torch.log(torch.clamp(mel, min=self.log_floor)).transpose(-1, -2)
