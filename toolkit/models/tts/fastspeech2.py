"""FastSpeech 2 acoustic model (Ren et al. 2021) with token-averaged pitch and energy (FastPitch,
ESPnet's FastSpeech2): phoneme ids -> log-mel frames.

    text -> embedding -> FFT encoder (+ speaker embedding) -> duration / pitch / energy predictors
         hs + conv1d(pitch) + conv1d(energy) -> length regulator -> FFT decoder -> linear -> mel
         mel + postnet(mel) -> refined mel

Training is teacher forced (ground-truth durations, pitch and energy). Features are
normalised by the optional GlobalCMVN `normalize` before the loss and de-normalised by
`inference`. loss = L1(mel) + L1(postnet mel) + MSE(log(duration + 1)) + MSE(pitch) +
MSE(energy), each a mean over real frames / tokens (use_masking) or over the padded
tensors. Stats: loss, mel_loss, postnet_mel_loss, duration_loss, pitch_loss, energy_loss;
the batch weight is its number of utterances.
"""
import itertools
import math

import torch
import torch.nn.functional as F
from torch import nn

from toolkit.layers.masks import valid_mask
from toolkit.models.tts.fft_block import FFTStack
from toolkit.models.tts.length_regulator import LengthRegulator
from toolkit.models.tts.variance_predictor import VariancePredictor
from toolkit.utils.errors import ConfigError, DataError


class Postnet(nn.Module):
    """Tacotron 2 postnet: n_layers x (Conv1d -> BatchNorm -> tanh -> dropout), no tanh on the last.

    `forward(x [B, T, odim], mask [B, 1, T]) -> residual [B, T, odim]`; padded frames are
    zeroed before every convolution.
    """

    def __init__(self, odim, n_layers=5, n_chans=512, kernel_size=5, dropout_rate=0.5):
        super().__init__()
        if n_layers < 2 or kernel_size % 2 == 0:
            raise ConfigError(f"postnet: needs >= 2 layers and an odd kernel, got {n_layers} layers, "
                              f"kernel {kernel_size} (postnet_layers 0 turns the postnet off)")
        chans = [odim] + [n_chans] * (n_layers - 1) + [odim]
        self.convs = nn.ModuleList(nn.Conv1d(c_in, c_out, kernel_size, padding=kernel_size // 2, bias=False)
                                   for c_in, c_out in itertools.pairwise(chans))
        self.norms = nn.ModuleList(nn.BatchNorm1d(c) for c in chans[1:])
        self.dropout = nn.Dropout(dropout_rate)

    def forward(self, x, mask):
        x = x.transpose(1, 2)
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            x = norm(conv(x.masked_fill(~mask, 0.0)))
            x = self.dropout(torch.tanh(x) if i < len(self.convs) - 1 else x)
        return x.transpose(1, 2)


class ValueEmbedding(nn.Module):
    """Conv1d(1 -> adim, kernel) over token-level values [B, L] (masked) -> [B, L, adim], then dropout."""

    def __init__(self, adim, kernel_size=9, dropout_rate=0.0):
        super().__init__()
        if kernel_size % 2 == 0:
            raise ConfigError(f"pitch/energy embedding kernel must be odd for 'same' padding, got {kernel_size}")
        self.conv = nn.Conv1d(1, adim, kernel_size, padding=kernel_size // 2)
        self.dropout = nn.Dropout(dropout_rate)

    def forward(self, values, mask):
        return self.dropout(self.conv(values.unsqueeze(1).masked_fill(~mask, 0.0)).transpose(1, 2))


def _token_values(values, name):
    """[B, L] float from [B, L] or [B, L, 1] per-token values."""
    if values.dim() == 3 and values.shape[-1] == 1:
        values = values.squeeze(-1)
    if values.dim() != 2:
        raise DataError(f"{name}: expected per-token values [batch, tokens], got shape {tuple(values.shape)}")
    return values.float()


def _log_std(stats, name):
    """The "std" of a {"mean", "std"} stats mapping (None: no stats)."""
    if stats is None:
        return None
    std = stats.get("std") if isinstance(stats, dict) else None
    if not isinstance(std, (int, float)) or std <= 0:
        raise ConfigError(f"{name}: expected a mapping with a positive 'std' (extract_prosody's stats), got {stats!r}")
    return float(std)


class FastSpeech2(nn.Module):
    """`forward(text, text_lengths, feats, feats_lengths, durations, ..., sids=None) -> (loss, stats, weight)`.

    encoder_type / decoder_type: "transformer" (FFT blocks) or "conformer" (decoder_type
    None: as the encoder). ffn_kernel_sizes: the two kernels of the convolutional FFN.
    num_speakers > 0 adds a speaker-id embedding to the encoder output. pitch_stats /
    energy_stats: the {"mean", "std"} the data stage normalised the per-token log-F0 /
    log-energy with (extract_prosody's prosody_stats.json "pitch" / "energy"); they let
    `inference` take pitch_scale / energy_scale.
    """

    def __init__(self, vocab_size, odim=80, adim=256, aheads=2, elayers=4, eunits=1024, dlayers=4, dunits=1024,
                 encoder_type="transformer", decoder_type=None, ffn_kernel_sizes=(9, 1), cnn_module_kernel=7,
                 dropout_rate=0.1, positional_dropout_rate=0.1, attention_dropout_rate=0.1,
                 duration_predictor_layers=2, duration_predictor_chans=256, duration_predictor_kernel_size=3,
                 duration_predictor_dropout_rate=0.5, pitch_predictor_layers=2, pitch_predictor_chans=256,
                 pitch_predictor_kernel_size=3, pitch_predictor_dropout_rate=0.5, energy_predictor_layers=2,
                 energy_predictor_chans=256, energy_predictor_kernel_size=3, energy_predictor_dropout_rate=0.5,
                 pitch_embed_kernel_size=9, energy_embed_kernel_size=9, embed_dropout_rate=0.0,
                 postnet_layers=5, postnet_chans=512, postnet_kernel_size=5, postnet_dropout_rate=0.5,
                 num_speakers=0, normalize=None, use_masking=True, pitch_stats=None, energy_stats=None):
        super().__init__()
        if normalize is not None and normalize.dim != odim:
            raise ConfigError(f"FastSpeech2: odim {odim} but the CMVN stats have dimension {normalize.dim}")
        self.vocab_size, self.odim, self.use_masking = vocab_size, odim, use_masking
        self.normalize = normalize
        self.pitch_std = _log_std(pitch_stats, "pitch_stats")
        self.energy_std = _log_std(energy_stats, "energy_stats")
        self.embed = nn.Embedding(vocab_size, adim)
        stack = {"attention_heads": aheads, "kernel_sizes": ffn_kernel_sizes, "dropout_rate": dropout_rate,
                 "positional_dropout_rate": positional_dropout_rate,
                 "attention_dropout_rate": attention_dropout_rate, "cnn_module_kernel": cnn_module_kernel}
        self.encoder = FFTStack(adim, elayers, linear_units=eunits, block_type=encoder_type, **stack)
        self.sid_emb = nn.Embedding(num_speakers, adim) if num_speakers > 0 else None
        self.duration_predictor = VariancePredictor(adim, duration_predictor_layers, duration_predictor_chans,
                                                    duration_predictor_kernel_size, duration_predictor_dropout_rate)
        self.pitch_predictor = VariancePredictor(adim, pitch_predictor_layers, pitch_predictor_chans,
                                                 pitch_predictor_kernel_size, pitch_predictor_dropout_rate)
        self.energy_predictor = VariancePredictor(adim, energy_predictor_layers, energy_predictor_chans,
                                                  energy_predictor_kernel_size, energy_predictor_dropout_rate)
        self.pitch_embed = ValueEmbedding(adim, pitch_embed_kernel_size, embed_dropout_rate)
        self.energy_embed = ValueEmbedding(adim, energy_embed_kernel_size, embed_dropout_rate)
        self.length_regulator = LengthRegulator()
        self.decoder = FFTStack(adim, dlayers, linear_units=dunits, block_type=decoder_type or encoder_type,
                                **stack)
        self.feat_out = nn.Linear(adim, odim)
        self.postnet = (Postnet(odim, postnet_layers, postnet_chans, postnet_kernel_size, postnet_dropout_rate)
                        if postnet_layers > 0 else None)

    def encode(self, text, text_lengths, sids=None):
        """Encoder states [B, L, adim] (+ speaker embedding) and the token mask [B, 1, L]."""
        mask = valid_mask(text_lengths, text.shape[1]).unsqueeze(1)
        ids = text.masked_fill(~mask.squeeze(1), 0)
        if bool(((ids < 0) | (ids >= self.vocab_size)).any()):
            raise DataError(f"text holds token ids outside [0, {self.vocab_size}); is the token list the one "
                            f"the model was built with (vocab_size)?")
        hs = self.encoder(self.embed(ids), text_lengths)
        if self.sid_emb is None:
            if sids is not None:
                raise ConfigError("the batch has speaker ids (sids) but the model is single speaker; "
                                  "set num_speakers in the model config")
            return hs, mask
        if sids is None:
            raise DataError(f"the model has {self.sid_emb.num_embeddings} speakers and needs speaker ids (sids)")
        sids = sids.reshape(-1)
        if bool(((sids < 0) | (sids >= self.sid_emb.num_embeddings)).any()):
            raise DataError(f"speaker ids outside [0, {self.sid_emb.num_embeddings}): raise num_speakers "
                            f"or fix the sids of the data")
        return hs + self.sid_emb(sids).unsqueeze(1), mask

    def decode(self, hs, mask, durations, pitch, energy, max_len=None):
        """(mel before postnet, mel after postnet, frame lengths): [B, T, odim] normalised features."""
        hs = hs + self.pitch_embed(pitch, mask) + self.energy_embed(energy, mask)
        frames, lengths = self.length_regulator(hs, durations.masked_fill(~mask.squeeze(1), 0), max_len)
        before = self.feat_out(self.decoder(frames, lengths))
        if self.postnet is None:
            return before, before, lengths
        return before, before + self.postnet(before, valid_mask(lengths, before.shape[1]).unsqueeze(1)), lengths

    def forward(self, text, text_lengths, feats, feats_lengths, durations, durations_lengths, pitch, pitch_lengths,
                energy, energy_lengths, sids=None, sids_lengths=None):
        for name, lengths in (("durations", durations_lengths), ("pitch", pitch_lengths),
                              ("energy", energy_lengths)):
            if not torch.equal(lengths, text_lengths):
                raise DataError(f"{name} has {lengths.tolist()} values per utterance but text has "
                                f"{text_lengths.tolist()} tokens; {name} must have one value per token")
        if feats.shape[-1] != self.odim:
            raise DataError(f"feats have dimension {feats.shape[-1]} but the model predicts odim {self.odim}")
        token_mask = valid_mask(text_lengths, text.shape[1])
        durations = durations.long().masked_fill(~token_mask, 0)
        if not torch.equal(durations.sum(1), feats_lengths):
            raise DataError(f"durations sum to {durations.sum(1).tolist()} frames per utterance but feats have "
                            f"{feats_lengths.tolist()}; recompute the durations for these features")
        pitch, energy = _token_values(pitch, "pitch"), _token_values(energy, "energy")
        hs, mask = self.encode(text, text_lengths, sids)
        log_d = self.duration_predictor(hs, mask)
        pitch_pred = self.pitch_predictor(hs, mask)
        energy_pred = self.energy_predictor(hs, mask)
        before, after, _ = self.decode(hs, mask, durations, pitch, energy, max_len=feats.shape[1])
        target = self.normalize(feats) if self.normalize is not None else feats
        frame_mask = valid_mask(feats_lengths, feats.shape[1])
        stats = {"mel_loss": self._loss(F.l1_loss, before, target, frame_mask)}
        if self.postnet is not None:
            stats["postnet_mel_loss"] = self._loss(F.l1_loss, after, target, frame_mask)
        stats["duration_loss"] = self._loss(F.mse_loss, log_d, torch.log1p(durations.float()), token_mask)
        stats["pitch_loss"] = self._loss(F.mse_loss, pitch_pred, pitch, token_mask)
        stats["energy_loss"] = self._loss(F.mse_loss, energy_pred, energy, token_mask)
        loss = sum(stats.values())
        stats = {"loss": loss.item(), **{name: value.item() for name, value in stats.items()}}
        return loss, stats, float(text.shape[0])

    def _loss(self, fn, pred, target, mask):
        if self.use_masking:
            return fn(pred[mask], target[mask])
        return fn(pred, target)

    @torch.no_grad()
    def inference(self, text, text_lengths=None, sids=None, durations=None, pitch=None, energy=None, speed=1.0,
                  pitch_shift=0.0, pitch_scale=1.0, energy_scale=1.0):
        """Synthesise log-mel features for text [L] or [B, L] (with text_lengths; default: all real).

        durations / pitch / energy ([B, L] or [L]) replace the predicted ones (teacher values).
        Durations are round((exp(log-duration) - 1) / speed) clamped at 0 (a token may get no
        frame; an utterance whose every token gets 0 gets 1 frame per token); teacher
        durations are divided by speed and rounded. pitch_shift is added to the normalised
        log-F0 of every token; pitch_scale multiplies F0 (a shift of log(pitch_scale) / std,
        needs pitch_stats); energy_scale multiplies the frame energy (the STFT magnitude
        norm; a shift of the normalised log-energy by log(energy_scale) / std, needs
        energy_stats). Controls apply to teacher pitch / energy as well.
        Returns {"feats": [B, T, odim] de-normalised log-mel, zero past each length,
        "feats_lengths": [B], "durations": [B, L] int64, "pitch": [B, L], "energy": [B, L]}.
        """
        if speed <= 0:
            raise ConfigError(f"speed must be > 0, got {speed}")
        for name, scale, std in (("pitch", pitch_scale, self.pitch_std), ("energy", energy_scale, self.energy_std)):
            if scale <= 0 or (scale != 1.0 and std is None):
                raise ConfigError(f"{name}_scale {scale}: must be > 0, and != 1 needs the model built with "
                                  f"{name}_stats (extract_prosody's prosody_stats.json)")
        if text.dim() == 1:
            text, durations, pitch, energy = (None if x is None else x.unsqueeze(0)
                                              for x in (text, durations, pitch, energy))
        if text_lengths is None:
            text_lengths = torch.full((text.shape[0],), text.shape[1], dtype=torch.long, device=text.device)
        hs, mask = self.encode(text, text_lengths, sids)
        token_mask = mask.squeeze(1)
        if durations is None:
            durations = torch.clamp(torch.round(torch.expm1(self.duration_predictor(hs, mask)) / speed), min=0)
        else:
            durations = torch.round(durations.float() / speed)
        durations = durations.long().masked_fill(~token_mask, 0)
        empty = durations.sum(1) == 0
        durations = torch.where(empty[:, None], token_mask.long(), durations)
        pitch = self.pitch_predictor(hs, mask) if pitch is None else _token_values(pitch, "pitch")
        pitch = pitch + pitch_shift + (math.log(pitch_scale) / self.pitch_std if pitch_scale != 1.0 else 0.0)
        energy = self.energy_predictor(hs, mask) if energy is None else _token_values(energy, "energy")
        if energy_scale != 1.0:
            energy = energy + math.log(energy_scale) / self.energy_std
        pitch, energy = pitch.masked_fill(~token_mask, 0.0), energy.masked_fill(~token_mask, 0.0)
        _, feats, lengths = self.decode(hs, mask, durations, pitch, energy)
        if self.normalize is not None:
            feats = feats / self.normalize.scale + self.normalize.mean
        feats = feats.masked_fill(~valid_mask(lengths, feats.shape[1]).unsqueeze(-1), 0.0)
        return {"feats": feats, "feats_lengths": lengths, "durations": durations, "pitch": pitch, "energy": energy}
