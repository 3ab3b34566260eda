"""Hybrid CTC/attention speech recognition: encoders, attention decoder, CTC head, the model."""
from toolkit.models.asr.ctc import CTC
from toolkit.models.asr.decoder import TransformerDecoder
from toolkit.models.asr.encoder import ENCODERS, ConformerEncoder, TransformerEncoder
from toolkit.models.asr.model import ASRModel

__all__ = ["CTC", "ENCODERS", "ASRModel", "ConformerEncoder", "TransformerDecoder", "TransformerEncoder"]
