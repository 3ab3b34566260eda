"""Data: Kaldi data dirs, audio I/O, validation, datasets, samplers."""
