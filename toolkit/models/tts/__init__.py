"""Text-to-speech acoustic models: phoneme ids -> log-mel features."""
from toolkit.models.tts.fastspeech2 import FastSpeech2
from toolkit.models.tts.length_regulator import LengthRegulator
from toolkit.models.tts.variance_predictor import VariancePredictor

__all__ = ["FastSpeech2", "LengthRegulator", "VariancePredictor"]
