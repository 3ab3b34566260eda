"""LibriSpeech (https://www.openslr.org/12): read English audiobooks, 16 kHz FLAC.

Layout (every PART.tar.gz extracts into LibriSpeech/):
  LibriSpeech/PART/READER/CHAPTER/READER-CHAPTER-NNNN.flac
  LibriSpeech/PART/READER/CHAPTER/READER-CHAPTER.trans.txt   `UTT WORDS` a line, upper case
  LibriSpeech/SPEAKERS.TXT   `READER | SEX | SUBSET | MINUTES | NAME`, ';' starts a comment
A PART's set is its name with underscores (dev-clean -> dev_clean). As in Kaldi and
ESPnet the speaker is READER-CHAPTER (per-chapter statistics); spk2gender comes from
SPEAKERS.TXT when it is there.
"""
import logging
import os

from toolkit.corpus.real.common import Dropped, find_files, find_root, make_set, read_lines, write_sets
from toolkit.data.tables import iter_table
from toolkit.utils.errors import DataError

# Utterances per part in the release.
PARTS = {"train-clean-100": 28539, "train-clean-360": 104014, "train-other-500": 148688,
         "dev-clean": 2703, "dev-other": 2864, "test-clean": 2620, "test-other": 2939}
DOWNLOAD = ("Download PART.tar.gz for each part from https://www.openslr.org/12, extract them all in one "
            "folder and give its LibriSpeech folder (or the folder holding it) as the corpus dir.")


def read_transcripts(part_dir):
    """{utt: WORDS} from every *.trans.txt under a part."""
    text = {}
    for path in find_files(part_dir, ".trans.txt").values():
        for lineno, utt, words in iter_table(path):
            if utt in text:
                raise DataError(f"{path}:{lineno}: utterance {utt!r} is transcribed twice")
            text[utt] = words
    return text


def read_genders(path):
    """{READER: 'm' | 'f'} from SPEAKERS.TXT."""
    genders = {}
    for lineno, line in read_lines(path):
        if line.startswith(";"):
            continue
        fields = [f.strip() for f in line.split("|")]
        if len(fields) < 2 or fields[1].lower() not in ("m", "f"):
            raise DataError(f"{path}:{lineno}: expected 'READER | SEX | ...' with SEX M or F, got {line!r}")
        genders[fields[0]] = fields[1].lower()
    return genders


def prepare(src, dst, parts=tuple(PARTS)):
    """Write DST/<part with underscores> for each part; -> {set: utterance count}."""
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise DataError(f"unknown LibriSpeech part(s) {' '.join(unknown)}; the parts are {' '.join(PARTS)}")
    root = find_root(src, "LibriSpeech", parts[0], DOWNLOAD)
    speakers_txt = os.path.join(root, "SPEAKERS.TXT")
    genders = read_genders(speakers_txt) if os.path.isfile(speakers_txt) else None
    if genders is None:
        logging.warning("%s not found: no spk2gender", speakers_txt)
    dropped, sets, expected = Dropped(), [], {}
    for part in parts:
        part_dir = os.path.join(root, part)
        if not os.path.isdir(part_dir):
            raise DataError(f"LibriSpeech part {part} not found: {part_dir} does not exist. {DOWNLOAD}")
        name = part.replace("-", "_")
        expected[name] = PARTS[part]
        cset = make_set(name, find_files(part_dir, ".flac"), read_transcripts(part_dir),
                        lambda utt: utt.rsplit("-", 1)[0], dropped)
        if genders is not None:
            speakers = sorted(set(cset.utt2spk.values()))
            cset.spk2gender = {s: genders[s.split("-")[0]] for s in speakers if s.split("-")[0] in genders}
            missing = sorted({s.split("-")[0] for s in speakers} - genders.keys())
            if missing:
                logging.warning("%s: reader(s) %s not in %s: their chapters have no spk2gender entry",
                                name, " ".join(missing[:10]), speakers_txt)
        sets.append(cset)
    return write_sets(dst, "librispeech", sets, dropped, expected=expected)
