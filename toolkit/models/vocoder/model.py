"""HiFi-GAN trained by the shared trainer: generator + MPD + MSD with two optimizer turns.

forward(speech, speech_lengths, turn) computes the input log-mel from the audio itself.
- turn "generator": lambda_adv * adv + lambda_fm * fm + lambda_mel * mel (+ lambda_stft * stft).
  The discriminators' parameters are frozen for this turn, so its backward leaves no
  gradient on them (their own turn must see only the discriminator loss).
- turn "discriminator": the LSGAN loss on real vs generated audio; the generator runs again
  under no_grad (recomputed, not cached: with --accum_grad the trainer runs every
  micro-batch's generator turn first, and after the generator's step a fresh sample is the
  right one). Its stats also carry mel_loss, so validation (run with the last turn) reports it.
Padding: samples past an utterance's length are zero in the batch; the generated wave is
zeroed there too, so the discriminators see silence on both sides, and the mel loss
averages only over frames inside each utterance. Crops of equal length need no mask at all.
The generated wave (frames * hop samples, frames = 1 + samples // hop) is cut to the input length.
discriminator_start_steps N (as ParallelWaveGAN's discriminator_train_start_steps): the first N
training batches (micro-batches, with --accum_grad) train the generator on the mel (+ STFT) loss alone and the discriminator turn
returns no loss (the trainer skips its step); the count is a buffer, saved and resumed with
the weights. A short CPU budget goes much further this way: a generator-only step costs a
fraction of a GAN step, and the adversarial phase starts from intelligible audio.
"""
import contextlib
import inspect
import itertools

import torch
from torch import nn

from toolkit.data.augment.conf import check_keys
from toolkit.features.logmel import LogMel
from toolkit.losses.gan import discriminator_loss, feature_matching_loss, generator_adv_loss
from toolkit.losses.stft import PWG_RESOLUTIONS, MelL1Loss, MultiResolutionSTFTLoss
from toolkit.models.vocoder.discriminators import MultiPeriodDiscriminator, MultiScaleDiscriminator
from toolkit.models.vocoder.hifigan import HiFiGANGenerator, generator_config
from toolkit.utils.errors import ConfigError, DataError

@contextlib.contextmanager
def _frozen(module):
    """Parameters of `module` need no gradient inside the block."""
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


class HiFiGANModel(nn.Module):
    """HiFi-GAN for the trainer.

    generator: "v1" | "v2" | "v3" (HIFIGAN_CONFIGS) or a mapping of HiFiGANGenerator arguments (unset ones
      from V1); generator_conf: overrides of either (in_channels defaults to mel_conf n_mels).
    mel_conf: LogMel options of the input features (sample_rate, n_fft, hop_length, win_length, n_mels, fmin,
      fmax, ...; unset ones take LogMel's defaults: 22.05 kHz,
      n_fft 1024, hop 256, 80 mels, fmin 0, fmax None -- HiFi-GAN's inputs use fmax 8000);
      hop_length must equal the product of the generator's upsample_rates.
    mel_loss_fmax: fmax of the loss mel (None: Nyquist, as HiFi-GAN); otherwise as mel_conf.
    mpd_conf / msd_conf: MultiPeriodDiscriminator / MultiScaleDiscriminator keyword arguments.
    lambda_*: loss weights; use_stft_loss adds lambda_stft * multi-resolution STFT loss.
    """

    def __init__(self, generator="v1", generator_conf=None, mel_conf=None, mel_loss_fmax=None, mpd_conf=None,
                 msd_conf=None, lambda_mel=45.0, lambda_fm=2.0, lambda_adv=1.0, use_stft_loss=False,
                 lambda_stft=1.0, stft_resolutions=PWG_RESOLUTIONS, discriminator_start_steps=0):
        super().__init__()
        self.discriminator_start_steps = discriminator_start_steps
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))
        mel_conf = dict(mel_conf or {})
        check_keys("mel_conf", mel_conf, inspect.signature(LogMel).parameters)
        self.mel = LogMel(**mel_conf)
        n_mels = self.mel.mel.n_mels
        gen_conf = generator_config(generator, generator_conf)
        if gen_conf.setdefault("in_channels", n_mels) != n_mels:
            raise ConfigError(f"generator_conf in_channels {gen_conf['in_channels']} != mel_conf n_mels {n_mels}")
        self.generator = HiFiGANGenerator(**gen_conf)
        if self.generator.hop_length != self.mel.hop_length:
            raise ConfigError(f"mel_conf hop_length {self.mel.hop_length} != {self.generator.hop_length}, the "
                              f"product of the generator's upsample_rates: change one of them")
        for name, conf, cls in (("mpd_conf", mpd_conf, MultiPeriodDiscriminator),
                                ("msd_conf", msd_conf, MultiScaleDiscriminator)):
            check_keys(name, conf or {}, inspect.signature(cls).parameters)
        self.mpd = MultiPeriodDiscriminator(**(mpd_conf or {}))
        self.msd = MultiScaleDiscriminator(**(msd_conf or {}))
        self.mel_loss = MelL1Loss(**{**mel_conf, "fmax": mel_loss_fmax})
        self.stft_loss = MultiResolutionSTFTLoss(stft_resolutions) if use_stft_loss else None
        self.lambda_mel, self.lambda_fm = lambda_mel, lambda_fm
        self.lambda_adv, self.lambda_stft = lambda_adv, lambda_stft

    def optimizer_params(self):
        return {"generator": self.generator.parameters(),
                "discriminator": itertools.chain(self.mpd.parameters(), self.msd.parameters())}

    def discriminate(self, wave):
        """[B, 1, samples] -> [(logits, feature maps)] of every MPD then MSD sub-discriminator."""
        return self.mpd(wave) + self.msd(wave)

    def generate(self, speech, speech_lengths):
        """Re-synthesise padded speech [B, samples] from its own log-mel: [B, 1, samples], zero past lengths."""
        samples = speech.shape[-1]
        if samples < self.mel.min_samples:
            raise DataError(f"vocoder batch of {samples} samples: need at least {self.mel.min_samples} per "
                            f"utterance (n_fft // 2 + 1); raise --max_length or drop shorter utterances")
        with torch.autocast(speech.device.type, enabled=False):
            mel = self.mel(speech.float())
        wave = self.generator(mel.transpose(1, 2))[..., :samples]
        mask = torch.arange(samples, device=speech.device)[None, :] < speech_lengths.to(speech.device)[:, None]
        return wave * mask[:, None, :]

    def forward(self, speech, speech_lengths, turn="generator"):
        """speech [B, samples] in [-1, 1], speech_lengths [B] -> (loss, stats, batch size)."""
        real = speech.unsqueeze(1)
        adversarial = not self.training or int(self.steps) >= self.discriminator_start_steps
        if turn == "generator":
            fake = self.generate(speech, speech_lengths)
            mel = self.mel_loss(fake, real, speech_lengths)
            loss = self.lambda_mel * mel
            stats = {"mel_loss": mel.item()}
            if adversarial:
                with _frozen(self.mpd), _frozen(self.msd):
                    with torch.no_grad():
                        real_out = self.discriminate(real)
                    fake_out = self.discriminate(fake)
                adv = generator_adv_loss([logits for logits, _ in fake_out])
                fm = feature_matching_loss([maps for _, maps in real_out], [maps for _, maps in fake_out])
                loss = loss + self.lambda_adv * adv + self.lambda_fm * fm
                stats.update(adv_loss=adv.item(), fm_loss=fm.item())
            if self.stft_loss is not None:
                stft = self.stft_loss(fake, real)
                loss = loss + self.lambda_stft * stft
                stats["stft_loss"] = stft.item()
        elif turn == "discriminator":
            if self.training:  # counted in the last turn, so both turns of a batch see the same count
                self.steps += 1
            if not adversarial:
                return None, {}, speech.shape[0]
            with torch.no_grad():
                fake = self.generate(speech, speech_lengths)
                mel = self.mel_loss(fake, real, speech_lengths)
            loss, real_part, fake_part = discriminator_loss([logits for logits, _ in self.discriminate(real)],
                                                            [logits for logits, _ in self.discriminate(fake)])
            stats = {"real_loss": real_part.item(), "fake_loss": fake_part.item(), "mel_loss": mel.item()}
        else:
            raise ValueError(f"turn {turn!r}: expected 'generator' or 'discriminator'")
        return loss, {"loss": loss.item(), **stats}, speech.shape[0]

    @torch.no_grad()
    def inference(self, mel):
        """Time-major log-mel [frames, n_mels] or [B, frames, n_mels] -> wave [frames * hop] or [B, ...]."""
        return self.generator.inference(mel)

    def remove_weight_norm(self):
        """Fold the generator's weight norm for inference (training needs it back: rebuild the model)."""
        self.generator.remove_weight_norm()
