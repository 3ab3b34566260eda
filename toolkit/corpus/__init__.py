"""mini_synth: an offline corpus synthesised with espeak-ng for ASR, separation, TTS and noise.

build.py runs it (CLI: toolkit/bin/synth_corpus.py); sentences.py/vocabulary.py
make the text, speakers.py the speakers (voices.py their random voice variants),
synthesis.py the audio (fresh process per chunk), mixtures.py the two-speaker
mixtures, noise.py the noise clips.
"""
