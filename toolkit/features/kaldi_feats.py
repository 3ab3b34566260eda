"""Kaldi fbank / MFCC through torchaudio.compliance.kaldi.

Samples come in as float in [-1, 1] (soundfile's scale) and are multiplied by
32768 before the Kaldi functions see them: Kaldi computes features on int16-range
values, so energy floors, dither and log offsets match Kaldi's binaries only on
that scale. For an int16 wav the product restores the exact integer samples.
Option defaults are torchaudio's (dither set to 0); note that two differ from the
Kaldi binaries: energy_floor (1.0, Kaldi 0.0) and mfcc use_energy (False, Kaldi true).
"""
import inspect

import torchaudio.compliance.kaldi as kaldi

INT16_SCALE = 32768.0
_FUNCTIONS = {"fbank": kaldi.fbank, "mfcc": kaldi.mfcc}
# Handled by our own reader (channel) or passed positionally (waveform).
_NOT_OPTIONS = {"waveform", "channel"}


def kaldi_options(feat_type):
    """{option: default} accepted by torchaudio.compliance.kaldi.<feat_type>."""
    params = inspect.signature(_FUNCTIONS[feat_type]).parameters
    return {name: p.default for name, p in params.items() if name not in _NOT_OPTIONS}


class KaldiFeatures:
    """Callable: float waveform [time] in [-1, 1] -> features [frames, dim].

    `opts` are torchaudio.compliance.kaldi keyword arguments (num_mel_bins,
    frame_length, frame_shift, snip_edges, ...); dither defaults to 0 so that
    features are reproducible.
    """

    def __init__(self, feat_type, **opts):
        self.feat_type = feat_type
        self.options = {**kaldi_options(feat_type), "dither": 0.0, **opts}
        self.sample_rate = int(self.options["sample_frequency"])
        self.min_samples = int(self.sample_rate * self.options["frame_length"] * 0.001)

    def __call__(self, wave):
        return _FUNCTIONS[self.feat_type](wave.unsqueeze(0) * INT16_SCALE, **self.options)
