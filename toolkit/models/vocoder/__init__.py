"""Vocoders: log-mel (toolkit.features.logmel.LogMel, time-major) -> waveform.

HiFi-GAN (generator V1/V2/V3, MPD + MSD discriminators, trainer wrapper) and Griffin-Lim.
"""
from toolkit.models.vocoder.discriminators import MultiPeriodDiscriminator, MultiScaleDiscriminator
from toolkit.models.vocoder.griffin_lim import GriffinLim
from toolkit.models.vocoder.hifigan import HIFIGAN_CONFIGS, HiFiGANGenerator
from toolkit.models.vocoder.model import HiFiGANModel

__all__ = ["GriffinLim", "HIFIGAN_CONFIGS", "HiFiGANGenerator", "HiFiGANModel", "MultiPeriodDiscriminator",
           "MultiScaleDiscriminator"]
