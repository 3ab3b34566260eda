"""espeak-ng through espeakng-loader: synthesis is reproducible in a fresh process; phonemes."""
import subprocess
import sys

import numpy as np

from toolkit.utils.espeak import phonemize, synthesize

_SCRIPT = """
import hashlib, sys
from toolkit.utils.espeak import synthesize
for text in ["the seven red boats", "forty two"]:
    audio, rate = synthesize(text, "en-us+f2", rate=160, pitch=60)
    print(rate, len(audio), hashlib.sha1(audio.tobytes()).hexdigest())
"""


def test_synthesis_same_sequence_same_bytes_in_fresh_processes():
    runs = [subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, check=True).stdout
            for _ in range(2)]
    assert runs[0] == runs[1]
    assert runs[0].split()[0] == "22050"


def test_synthesis_is_speech_like():
    audio, rate = synthesize("hello world", "en-us")
    assert audio.dtype == np.int16
    assert 0.4 < len(audio) / rate < 3.0
    assert np.abs(audio).max() > 3000


def test_phonemize_splits_clauses_and_words():
    clauses = phonemize("Hello world, good day.")
    assert len(clauses) == 2
    assert len(clauses[0]) == 2 and "ˈoʊ" in clauses[0][0]
    assert phonemize("") == []
