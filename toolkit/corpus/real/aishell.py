"""AISHELL-1 (https://www.openslr.org/33): 178 h of Mandarin read speech, 400 speakers, 16 kHz wav.

Layout of data_aishell.tgz once extracted:
  data_aishell/transcript/aishell_transcript_v0.8.txt   `UTT WORD WORD ...` (words split by spaces)
  data_aishell/wav/{train,dev,test}/SPK/UTT.wav
The release packs the audio per speaker (data_aishell/wav/S0002.tar.gz, ...): they must be
extracted in place first. The text loses the spaces between words (character tokens, as
in ESPnet). The 325 wav files without a transcript are dropped, as in Kaldi and ESPnet,
and listed in DST/local/aishell_dropped.txt with the transcripts that have no audio.
"""
import glob
import os

from toolkit.corpus.real.common import Dropped, find_files, find_root, make_set, write_sets
from toolkit.data.tables import iter_table
from toolkit.utils.errors import DataError

TRANSCRIPT = os.path.join("transcript", "aishell_transcript_v0.8.txt")
EXPECTED = {"train": 120098, "dev": 14326, "test": 7176}
DOWNLOAD = ("Download data_aishell.tgz from https://www.openslr.org/33, extract it, extract every "
            "data_aishell/wav/*.tar.gz in that folder (cd data_aishell/wav; for f in *.tar.gz; do tar xzf $f; done) "
            "and give data_aishell (or the folder holding it) as the corpus dir.")


def read_transcript(path):
    """{utt: characters} with the spaces between words removed."""
    text = {}
    for lineno, utt, words in iter_table(path):
        if utt in text:
            raise DataError(f"{path}:{lineno}: utterance {utt!r} is transcribed twice")
        text[utt] = "".join(words.split())
    return text


def prepare(src, dst):
    """Write DST/{train,dev,test}; -> {set: utterance count}."""
    root = find_root(src, "data_aishell", TRANSCRIPT, DOWNLOAD)
    text = read_transcript(os.path.join(root, TRANSCRIPT))
    dropped, sets, with_audio = Dropped(), [], set()
    for name in EXPECTED:
        folder = os.path.join(root, "wav", name)
        if not os.path.isdir(folder):
            packed = glob.glob(os.path.join(root, "wav", "*.tar.gz"))
            state = f"the audio is still packed ({len(packed)} .tar.gz files)" if packed else "no such directory"
            raise DataError(f"{folder}: {state}. {DOWNLOAD}")
        audio = find_files(folder, ".wav")
        with_audio.update(audio)
        speaker = {utt: os.path.basename(os.path.dirname(path)) for utt, path in audio.items()}  # SPK folder
        sets.append(make_set(name, audio, {u: text[u] for u in audio if u in text}, speaker.__getitem__, dropped))
    for utt in sorted(text.keys() - with_audio):
        dropped.add("-", utt, "no_audio", os.path.join(root, TRANSCRIPT))
    return write_sets(dst, "aishell", sets, dropped, expected=EXPECTED)
