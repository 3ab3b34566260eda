"""Published corpus layouts -> Kaldi data dirs, for the real-corpus recipes' local/data.sh.

Each module reads one corpus as released and has `prepare(src, dst, ...)` returning
{set name: utterance count}:
  an4.py          CMU AN4 (NIST SPHERE): train, train_dev, train_nodev, test
  librispeech.py  LibriSpeech (FLAC): one set per part, dev-clean -> dev_clean
  aishell.py      AISHELL-1 (wav): train, dev, test, Mandarin text without spaces
  ljspeech.py     LJ Speech 1.1 (22.05 kHz wav, one speaker, for TTS): train, dev, test
common.py holds what they share: finding the corpus, pairing audio with transcripts
(what has only one of the two is dropped and listed in DST/local/<corpus>_dropped.txt),
writing the sets. CLI: python -m toolkit.bin.prepare_corpus.
"""
CORPORA = ("an4", "librispeech", "aishell", "ljspeech")
