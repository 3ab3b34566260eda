"""Encoder input layers: ESPnet's conv2d subsampling (time and frequency reduced by 4, 6 or 8)
and `linear` (no subsampling: one output frame per input frame, e.g. a CTC aligner for TTS).

Each conv is unpadded ('valid') and followed by ReLU; the output channels times the
remaining frequency bins are mapped to the model size by a linear layer. ESPnet uses
the model size as the number of channels; fewer (`channels`) make the second conv,
the costliest op of a small encoder on CPU, quadratically cheaper. An output
frame depends only on input frames at or after 4t (6t, 8t), never on frames past the
input's length, so padding does not change the valid outputs.
"""
from torch import nn

from toolkit.utils.errors import ConfigError

# (kernel, stride) of each conv, per input_layer name.
LAYOUTS = {
    "conv2d": ((3, 2), (3, 2)),
    "conv2d6": ((3, 2), (5, 3)),
    "conv2d8": ((3, 2), (3, 2), (3, 2)),
}


def conv_output_length(length, layout):
    """Frames after the convs of `layout`: (L - kernel) // stride + 1, conv by conv (ints or tensors)."""
    for kernel, stride in layout:
        length = (length - kernel) // stride + 1
    return length


def build_input_layer(idim, odim, input_layer="conv2d", channels=None):
    """The input layer named `input_layer`: 'linear' or one of LAYOUTS."""
    if input_layer == "linear":
        return LinearInput(idim, odim)
    return Conv2dSubsampling(idim, odim, input_layer, channels)


class LinearInput(nn.Module):
    """[batch, T, idim] -> [batch, T, odim]: linear, layer norm, ReLU; lengths unchanged."""

    min_length = 1

    def __init__(self, idim, odim):
        super().__init__()
        self.out = nn.Sequential(nn.Linear(idim, odim), nn.LayerNorm(odim), nn.ReLU())

    def output_length(self, lengths):
        return lengths

    def forward(self, x, lengths):
        return self.out(x), lengths


class Conv2dSubsampling(nn.Module):
    """[batch, T, idim] -> [batch, T', odim], T' = conv_output_length(T)."""

    def __init__(self, idim, odim, input_layer="conv2d", channels=None):
        super().__init__()
        if input_layer not in LAYOUTS:
            raise ConfigError(f"input_layer {input_layer!r}: expected linear or one of {', '.join(LAYOUTS)}")
        self.layout = LAYOUTS[input_layer]
        self.min_length = 1
        while conv_output_length(self.min_length, self.layout) < 1:
            self.min_length += 1
        channels = channels or odim
        convs, in_channels = [], 1
        for kernel, stride in self.layout:
            convs += [nn.Conv2d(in_channels, channels, kernel, stride), nn.ReLU()]
            in_channels = channels
        self.conv = nn.Sequential(*convs)
        freq = conv_output_length(idim, self.layout)
        if freq < 1:
            raise ConfigError(f"{input_layer} subsampling needs >= {self.min_length} feature dims, got {idim}")
        self.out = nn.Linear(channels * freq, odim)

    def output_length(self, lengths):
        return conv_output_length(lengths, self.layout)

    def forward(self, x, lengths):
        """(x [batch, T', odim], lengths') for features x [batch, T, idim] and their lengths."""
        x = self.conv(x.unsqueeze(1))  # [batch, channels, T', freq']
        batch, channels, frames, freq = x.shape
        return self.out(x.transpose(1, 2).reshape(batch, frames, channels * freq)), self.output_length(lengths)
