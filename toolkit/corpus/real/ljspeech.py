"""LJ Speech 1.1 (https://keithito.com/LJ-Speech-Dataset/): 13,100 clips of one female reader, 22.05 kHz.

Layout of LJSpeech-1.1.tar.bz2 once extracted:
  LJSpeech-1.1/metadata.csv     `ID|raw transcription|normalized transcription` a line, no header
  LJSpeech-1.1/wavs/ID.wav      mono 16-bit wav
The text is the normalized column (numbers, ordinals, money and abbreviations spelled out)
as is, for the phonemiser to clean. A line whose normalized field is missing or empty
keeps its raw transcription instead, with a warning naming the lines: the release has the
field on every line; the fallback serves LJSpeech-style corpora with two columns. Double
quotes are text, not CSV quoting (some lines open a quote they never close). The one
speaker is "LJ". Sets as in ESPnet's recipe: of the utterances in sorted id order (in the
release, the file's order) the last HELD_OUT are held out, their first half as `dev` and
their second half as `test`; the others are `train`.
"""
import logging
import os

from toolkit.corpus.real.common import Dropped, find_files, find_root, make_set, read_lines, write_sets
from toolkit.utils.errors import DataError

DOWNLOAD = ("Download LJSpeech-1.1.tar.bz2 from https://keithito.com/LJ-Speech-Dataset/ "
            "(https://data.keithito.com/data/speech/LJSpeech-1.1.tar.bz2), extract it (tar xjf) "
            "and give its LJSpeech-1.1 folder (or the folder holding it) as the corpus dir.")
FS = 22050
SPEAKER = "LJ"
HELD_OUT = 500  # 250 dev + 250 test
EXPECTED = {"train": 12600, "dev": 250, "test": 250}


def read_metadata(path):
    """{utt: normalized transcription, or the raw one where that field is missing or empty}."""
    text, fallback = {}, []
    for lineno, line in read_lines(path):
        fields = [f.strip() for f in line.split("|")]
        if not 2 <= len(fields) <= 3 or not fields[0]:
            raise DataError(f"{path}:{lineno}: expected 'ID|raw transcription|normalized transcription', "
                            f"got {line!r}")
        utt = fields[0]
        if utt in text:
            raise DataError(f"{path}:{lineno}: utterance {utt!r} is transcribed twice")
        if len(fields) == 2 or not fields[2]:
            fallback.append(f"{lineno} ({utt})")
        text[utt] = fields[-1] or fields[1]
    if fallback:
        logging.warning("%s: %d line(s) without a normalized transcription use the raw one: %s", path,
                        len(fallback), ", ".join(fallback[:10]) + (", ..." if len(fallback) > 10 else ""))
    return text


def prepare(src, dst):
    """Write DST/{train,dev,test}; -> {set: utterance count}."""
    root = find_root(src, "LJSpeech-1.1", "metadata.csv", DOWNLOAD)
    folder = os.path.join(root, "wavs")
    if not os.path.isdir(folder):
        raise DataError(f"{folder}: no such directory; the LJSpeech tree is incomplete. {DOWNLOAD}")
    dropped = Dropped()
    full = make_set("-", find_files(folder, ".wav"), read_metadata(os.path.join(root, "metadata.csv")),
                    lambda utt: SPEAKER, dropped)
    utts = sorted(full.utt2spk)
    if len(utts) <= HELD_OUT:
        raise DataError(f"{root}: {len(utts)} utterances with audio and text; more than {HELD_OUT} are needed "
                        f"({HELD_OUT} are held out for dev and test; the release has 13100). {DOWNLOAD}")
    train, held = utts[:-HELD_OUT], utts[-HELD_OUT:]
    sets = [full.subset("train", train), full.subset("dev", held[:HELD_OUT // 2]),
            full.subset("test", held[HELD_OUT // 2:])]
    return write_sets(dst, "ljspeech", sets, dropped, fs=FS, expected=EXPECTED)
