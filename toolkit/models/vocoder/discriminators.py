"""HiFi-GAN discriminators: multi-period (MPD) and multi-scale (MSD).

Each takes a wave [B, 1, samples] and returns one (logits [B, n], feature maps) pair per
sub-discriminator; the feature maps are every layer's output after its activation, and the
logit map, for the feature-matching loss. Defaults are the paper's sizes.
"""
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm, weight_norm

from toolkit.utils.errors import ConfigError

SLOPE = 0.1


def conv_stack(convs, conv_post, x):
    """(logits [B, n], feature maps): leaky-ReLU convs, then conv_post; every output is a feature map."""
    fmaps = []
    for conv in convs:
        x = nn.functional.leaky_relu(conv(x), SLOPE)
        fmaps.append(x)
    x = conv_post(x)
    fmaps.append(x)
    return x.flatten(1), fmaps


class PeriodDiscriminator(nn.Module):
    """Reshape the wave to [B, 1, samples / period, period] and run (k, 1) 2-D convs over it."""

    def __init__(self, period, channels=(32, 128, 512, 1024, 1024), kernel_size=5, stride=3):
        super().__init__()
        self.period = period
        ins = (1, *channels[:-1])
        strides = [stride] * (len(channels) - 1) + [1]
        self.convs = nn.ModuleList(
            weight_norm(nn.Conv2d(i, o, (kernel_size, 1), (s, 1), padding=(kernel_size // 2, 0)))
            for i, o, s in zip(ins, channels, strides))
        self.conv_post = weight_norm(nn.Conv2d(channels[-1], 1, (3, 1), padding=(1, 0)))

    def forward(self, wave):
        batch, _, samples = wave.shape
        if samples % self.period:
            wave = nn.functional.pad(wave, (0, self.period - samples % self.period), mode="reflect")
        return conv_stack(self.convs, self.conv_post, wave.view(batch, 1, -1, self.period))


class ScaleDiscriminator(nn.Module):
    """Strided grouped 1-D convs over the wave (MelGAN's discriminator block)."""

    def __init__(self, channels=(128, 128, 256, 512, 1024, 1024, 1024), groups=(1, 4, 16, 16, 16, 16, 1),
                 use_spectral_norm=False):
        super().__init__()
        if len(channels) != 7 or len(groups) != 7:
            raise ConfigError(f"scale discriminator: 7 channels and 7 groups expected, got {list(channels)}, "
                              f"{list(groups)}")
        norm = spectral_norm if use_spectral_norm else weight_norm
        kernels, strides = (15, 41, 41, 41, 41, 41, 5), (1, 2, 2, 4, 4, 1, 1)
        ins = (1, *channels[:-1])
        for i, o, g in zip(ins, channels, groups):
            if i % g or o % g:
                raise ConfigError(f"scale discriminator: channels {i} -> {o} are not divisible by groups {g}")
        self.convs = nn.ModuleList(
            norm(nn.Conv1d(i, o, k, s, groups=g, padding=k // 2))
            for i, o, k, s, g in zip(ins, channels, kernels, strides, groups))
        self.conv_post = norm(nn.Conv1d(channels[-1], 1, 3, padding=1))

    def forward(self, wave):
        return conv_stack(self.convs, self.conv_post, wave)


class MultiPeriodDiscriminator(nn.Module):
    """One PeriodDiscriminator per period (2, 3, 5, 7, 11: prime, so their views overlap little)."""

    def __init__(self, periods=(2, 3, 5, 7, 11), channels=(32, 128, 512, 1024, 1024), kernel_size=5, stride=3):
        super().__init__()
        self.discriminators = nn.ModuleList(PeriodDiscriminator(p, channels, kernel_size, stride) for p in periods)

    def forward(self, wave):
        """[B, 1, samples] -> [(logits, feature maps)] per period."""
        return [d(wave) for d in self.discriminators]


class MultiScaleDiscriminator(nn.Module):
    """ScaleDiscriminators on the raw wave and on 2x, 4x average-pooled copies; spectral norm on the first."""

    def __init__(self, scales=3, channels=(128, 128, 256, 512, 1024, 1024, 1024), groups=(1, 4, 16, 16, 16, 16, 1)):
        super().__init__()
        self.discriminators = nn.ModuleList(ScaleDiscriminator(channels, groups, use_spectral_norm=i == 0)
                                            for i in range(scales))
        self.pool = nn.AvgPool1d(4, 2, padding=2)

    def forward(self, wave):
        """[B, 1, samples] -> [(logits, feature maps)] per scale."""
        outputs = []
        for i, d in enumerate(self.discriminators):
            if i:
                wave = self.pool(wave)
            outputs.append(d(wave))
        return outputs

