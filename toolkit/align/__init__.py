"""Alignment of token sequences to feature frames (per-token durations for TTS)."""
from toolkit.align.ctc_durations import METHODS, CTCAligner, align_tables, ctc_durations
from toolkit.align.ctc_durations import durations_from_log_probs, viterbi_durations

__all__ = ["METHODS", "CTCAligner", "align_tables", "ctc_durations", "durations_from_log_probs",
           "viterbi_durations"]
