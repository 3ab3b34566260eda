"""Evaluation metrics: ASR error rates with alignments, and the RESULTS.md tables they feed."""
