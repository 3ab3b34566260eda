"""Build a feature extractor from a config mapping (yaml) and apply it to one utterance.

A config is a mapping with `feat_type` (fbank, mfcc or logmel), an optional
`channel` (-1: audio must be mono; k: take channel k of multi-channel audio), and
the options of the chosen type: torchaudio.compliance.kaldi.fbank/mfcc keyword
arguments, or the LogMel arguments. `Extractor.conf` is the full resolved config;
saved as yaml (toolkit.utils.config.save_config) and read back (load_config), it
rebuilds the same extractor: that is what inference should load.
"""
import inspect

import numpy as np
import torch

from toolkit.features.kaldi_feats import KaldiFeatures, kaldi_options
from toolkit.features.logmel import LogMel
from toolkit.utils.errors import ConfigError, DataError

FEAT_TYPES = ("fbank", "mfcc", "logmel")


def logmel_options():
    """{option: default} accepted by LogMel."""
    params = inspect.signature(LogMel.__init__).parameters
    return {name: p.default for name, p in params.items() if name != "self"}


class Extractor:
    """Samples of one utterance -> float32 features [frames, dim]."""

    def __init__(self, feat_type, compute, options, channel=-1):
        self.feat_type = feat_type
        self.compute = compute
        self.options = options
        self.channel = channel

    @property
    def sample_rate(self):
        return self.compute.sample_rate

    @property
    def conf(self):
        return {"feat_type": self.feat_type, "channel": self.channel, **self.options}

    def __call__(self, samples, rate):
        """samples: float [time] or [time, channel] in [-1, 1]. Raises DataError on bad audio."""
        if rate != self.sample_rate:
            raise DataError(f"sample rate is {rate} Hz but the feature config expects {self.sample_rate} Hz; "
                            f"resample the audio (e.g. a `sox ... -r {self.sample_rate} - |` pipe in wav.scp) "
                            f"or change the config's sample rate")
        samples = self._select_channel(samples)
        if len(samples) < self.compute.min_samples:
            raise DataError(f"too short: {len(samples)} samples, one frame needs {self.compute.min_samples}")
        with torch.no_grad():
            feats = self.compute(torch.from_numpy(samples))
        return feats.numpy()

    def _select_channel(self, samples):
        channels = 1 if samples.ndim == 1 else samples.shape[1]
        if self.channel == -1 and channels > 1:
            raise DataError(f"audio has {channels} channels; set `channel: K` in the feature config to use one")
        if self.channel >= channels:
            raise DataError(f"config asks for channel {self.channel} but the audio has {channels}")
        if samples.ndim == 1:
            return np.ascontiguousarray(samples, dtype=np.float32)
        return np.ascontiguousarray(samples[:, max(self.channel, 0)], dtype=np.float32)


def build_extractor(conf, source="feature config"):
    """Extractor from a mapping with `feat_type`; `source` names the file in error messages."""
    conf = dict(conf)
    feat_type = conf.pop("feat_type", None)
    if feat_type not in FEAT_TYPES:
        raise ConfigError(f"{source}: feat_type must be one of {', '.join(FEAT_TYPES)}, got {feat_type!r}")
    channel = conf.pop("channel", -1)
    if not isinstance(channel, int) or channel < -1:
        raise ConfigError(f"{source}: channel must be -1 (mono) or a channel index, got {channel!r}")
    known = logmel_options() if feat_type == "logmel" else kaldi_options(feat_type)
    unknown = sorted(set(conf) - set(known))
    if unknown:
        raise ConfigError(f"{source}: unknown {feat_type} option(s) {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(known))}, channel")
    if feat_type == "logmel":
        options = {**known, **conf}
        return Extractor(feat_type, LogMel(**options), options, channel)
    compute = KaldiFeatures(feat_type, **conf)
    return Extractor(feat_type, compute, compute.options, channel)

