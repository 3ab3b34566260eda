"""Per-token log-F0 and log-energy of one utterance on the log-mel frame grid (FastSpeech 2 variance targets).

Pitch: WORLD F0 (toolkit.features.pitch) -> log-F0 interpolated over unvoiced frames ->
per-token mean of the voiced frames' log-F0 (the interpolated values for a token with
no voiced frame). Energy: per-frame log L2 norm of the STFT magnitude
(toolkit.features.energy) -> per-token mean. Both are unnormalised here; the stats of
the training set normalise them (toolkit.features.token_average).
"""
import numpy as np

from toolkit.features.energy import frame_log_energy
from toolkit.features.extractor import build_extractor
from toolkit.features.pitch import extract_f0, interpolate_log_f0
from toolkit.features.token_average import token_average
from toolkit.utils.errors import ConfigError, DataError


class ProsodyExtractor:
    """`(samples, rate, durations) -> (pitch [tokens], energy [tokens])` for a log-mel feature config."""

    def __init__(self, feat_conf, source="feature config", f0_method="dio", f0min=60.0, f0max=500.0):
        conf = dict(feat_conf)
        if conf.setdefault("feat_type", "logmel") != "logmel":
            raise ConfigError(f"{source}: feat_type is {conf['feat_type']!r}; durations, pitch and energy are "
                              f"on the log-mel frame grid (feat_type logmel)")
        extractor = build_extractor(conf, source)
        self.options, self.channel = extractor.options, extractor.channel
        if not self.options["center"]:
            raise ConfigError(f"{source}: center must be true: WORLD's F0 frames are centred on multiples of hop")
        self.f0_conf = {"f0_method": f0_method, "f0min": float(f0min), "f0max": float(f0max)}

    @property
    def sample_rate(self):
        return self.options["sample_rate"]

    def _mono(self, samples):
        if samples.ndim == 1:
            return samples
        if self.channel == -1:
            raise DataError(f"audio has {samples.shape[1]} channels; set `channel: K` in the feature config")
        if self.channel >= samples.shape[1]:
            raise DataError(f"config asks for channel {self.channel} but the audio has {samples.shape[1]}")
        return samples[:, self.channel]

    def __call__(self, samples, rate, durations):
        if rate != self.sample_rate:
            raise DataError(f"sample rate is {rate} Hz but the feature config says {self.sample_rate} Hz")
        samples = self._mono(np.asarray(samples))
        opts = self.options
        if len(samples) < opts["n_fft"] // 2 + 1:
            raise DataError(f"too short: {len(samples)} samples, one frame needs {opts['n_fft'] // 2 + 1}")
        energy = frame_log_energy(samples, opts["n_fft"], opts["hop_length"], opts["win_length"], opts["center"],
                                  opts["pad_mode"], eps=opts["log_floor"])
        if int(np.sum(durations)) != len(energy):
            raise DataError(f"durations sum to {int(np.sum(durations))} frames but the audio has {len(energy)} "
                            f"mel frames; were the durations made from features of this audio and config?")
        f0 = extract_f0(samples, self.sample_rate, opts["hop_length"], len(energy), self.f0_conf["f0_method"],
                        self.f0_conf["f0min"], self.f0_conf["f0max"])
        log_f0, voiced = interpolate_log_f0(f0)
        return token_average(log_f0, durations, voiced), token_average(energy, durations)
