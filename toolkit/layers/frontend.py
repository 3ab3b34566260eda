"""Features inside an ASR model: padded audio -> padded Kaldi fbank / MFCC frames.

The frontend holds a feature config, the mapping toolkit.features.extractor builds
(feat_type fbank|mfcc, channel, torchaudio.compliance.kaldi options; the yaml that
make_feats takes as --feat_conf, with feat_type set), and computes each utterance with
the same code as make_feats: a model trained on audio sees the features a dumped run
would have stored. torchaudio's Kaldi functions take one waveform at a time, so the
batch is computed utterance by utterance, in float32 with autocast off and no gradient
(the frontend has no parameters). `audio_items` lists the utterances of a wav.scp.
"""
import torch
from torch import nn
from torch.nn.utils.rnn import pad_sequence

from toolkit.data.datadir import read_segments
from toolkit.data.tables import read_table
from toolkit.features.extractor import build_extractor
from toolkit.utils.errors import ConfigError, DataError

FRONTEND_TYPES = ("fbank", "mfcc")


class Frontend(nn.Module):
    """`forward(wave [B, T] or [B, T, C] in [-1, 1], lengths [B]) -> (feats [B, F, D] zero-padded, frames [B])`."""

    def __init__(self, conf, source="frontend_conf"):
        super().__init__()
        feat_type = dict(conf).get("feat_type")
        if feat_type not in FRONTEND_TYPES:
            raise ConfigError(f"{source}: feat_type must be one of {', '.join(FRONTEND_TYPES)} for a frontend, "
                              f"got {feat_type!r}")
        self.extractor = build_extractor(conf, source)
        compute = self.extractor.compute
        self.sample_rate = compute.sample_rate
        self.window = compute.min_samples
        self.shift = int(self.sample_rate * compute.options["frame_shift"] * 0.001)
        self.snip_edges = compute.options["snip_edges"]
        self.output_size = compute(torch.zeros(self.window)).shape[1]

    @property
    def conf(self):
        """The full resolved feature config (saved as yaml, it rebuilds this frontend)."""
        return self.extractor.conf

    def num_frames(self, num_samples):
        """Frames of an utterance of `num_samples` samples, as Kaldi frames it (0 if too short)."""
        if self.snip_edges:
            return max(0, (num_samples - self.window) // self.shift + 1)
        return (num_samples + self.shift // 2) // self.shift

    def _channel(self, wave):
        """[B, T] mono audio: the configured channel of multi-channel audio [B, T, C]."""
        channels = 1 if wave.dim() == 2 else wave.shape[2]
        channel = self.extractor.channel
        if channel == -1 and channels > 1:
            raise DataError(f"audio has {channels} channels; set `channel: K` in the frontend config to use one")
        if channel >= channels:
            raise DataError(f"the frontend config asks for channel {channel} but the audio has {channels}")
        return wave if wave.dim() == 2 else wave[..., max(channel, 0)]

    def forward(self, wave, lengths):
        wave = self._channel(wave)
        feats = []
        with torch.no_grad(), torch.autocast(device_type=wave.device.type, enabled=False):
            for row, length in zip(wave, lengths.tolist()):
                if length < self.window:
                    raise DataError(f"an utterance of {length} samples is shorter than one frame ({self.window} "
                                    f"samples); filter short utterances out (filter_data_dir --min_samples)")
                feats.append(self.extractor.compute(row[:length].float()))
        frames = torch.tensor([len(f) for f in feats], dtype=lengths.dtype, device=lengths.device)
        return pad_sequence(feats, batch_first=True), frames

    def extra_repr(self):
        return ", ".join(f"{key}={value}" for key, value in self.conf.items())


def audio_items(wav_scp, segments=None):
    """[(utt, wav.scp value, start, end)] of a wav.scp, or of the utterances of a segments file over it."""
    table = read_table(wav_scp)
    if segments is None:
        return [(utt, spec, 0.0, None) for utt, spec in table.items()]
    items = []
    for utt, (reco, start, end) in read_segments(segments).items():
        if reco not in table:
            raise DataError(f"{segments}: utterance {utt!r}: recording {reco!r} is not in {wav_scp}; "
                            f"run utils/fix_data_dir.sh on the data dir")
        items.append((utt, table[reco], start, end))
    return items
