"""CMU AN4, the alphanumeric census database: 948 training and 130 test utterances, 16 kHz.

Layout of an4_sphere.tar.gz (http://www.speech.cs.cmu.edu/databases/an4/):
  an4/etc/an4_train.transcription, an4_test.transcription   `<s> WORDS </s> (FILEID)` a line
  an4/wav/an4_clstk/SPK/FILEID.sph       training audio, NIST SPHERE 16-bit
  an4/wav/an4test_clstk/SPK/FILEID.sph   test audio
FILEID is PROMPT-SPK-SESSION (an251-fash-b); the utterance id puts the speaker first
(fash-an251-b) so that utterances sort by speaker. wav.scp names the .sph files, which
soundfile reads (either byte order). Sets: train, test, and ESPnet's split of train:
its first `ndev_utts` utterances in sorted order (so the first speakers) are train_dev,
the rest train_nodev.
"""
import os
import re

from toolkit.corpus.real.common import Dropped, find_files, find_root, make_set, read_lines, write_sets
from toolkit.utils.errors import DataError

DOWNLOAD = ("Download an4_sphere.tar.gz from http://www.speech.cs.cmu.edu/databases/an4/, extract it "
            "and give its an4 folder (or the folder holding it) as the corpus dir.")
AUDIO_DIRS = {"train": "an4_clstk", "test": "an4test_clstk"}
EXPECTED = {"train": 948, "test": 130}
LINE = re.compile(r"^(?P<words>.*)\((?P<fileid>[^()\s]+)\)$")


def utt_id(fileid, where):
    """PROMPT-SPK-SESSION -> SPK-PROMPT-SESSION."""
    parts = fileid.split("-")
    if len(parts) != 3 or not all(parts):
        raise DataError(f"{where}: file id {fileid!r} is not PROMPT-SPEAKER-SESSION (e.g. an251-fash-b)")
    return "-".join((parts[1], parts[0], parts[2]))


def read_transcription(path):
    """{utt: WORDS} from an an4_*.transcription file, without the <s> and </s> markers."""
    text = {}
    for lineno, line in read_lines(path):
        match = LINE.match(line)
        if not match:
            raise DataError(f"{path}:{lineno}: expected '<s> WORDS </s> (FILEID)', got {line!r}")
        utt = utt_id(match["fileid"], f"{path}:{lineno}")
        if utt in text:
            raise DataError(f"{path}:{lineno}: file id {match['fileid']!r} is transcribed twice")
        text[utt] = " ".join(w for w in match["words"].split() if w not in ("<s>", "</s>")).upper()
    return text


def prepare(src, dst, ndev_utts=100):
    """Write DST/{train,train_dev,train_nodev,test}; -> {set: utterance count}."""
    root = find_root(src, "an4", os.path.join("etc", "an4_train.transcription"), DOWNLOAD)
    dropped = Dropped()
    sets = {}
    for name, audio_dir in AUDIO_DIRS.items():
        folder = os.path.join(root, "wav", audio_dir)
        if not os.path.isdir(folder):
            raise DataError(f"{folder}: no such directory; the AN4 tree is incomplete. {DOWNLOAD}")
        audio = {utt_id(fileid, path): path for fileid, path in find_files(folder, ".sph").items()}
        text = read_transcription(os.path.join(root, "etc", f"an4_{name}.transcription"))
        sets[name] = make_set(name, audio, text, lambda utt: utt.split("-")[0], dropped)
    utts = sorted(sets["train"].utt2spk)
    if not 0 < ndev_utts < len(utts):
        raise DataError(f"--ndev_utts {ndev_utts}: must be between 1 and {len(utts) - 1} "
                        f"(the AN4 training set has {len(utts)} utterances)")
    sets["train_dev"] = sets["train"].subset("train_dev", utts[:ndev_utts])
    sets["train_nodev"] = sets["train"].subset("train_nodev", utts[ndev_utts:])
    return write_sets(dst, "an4", list(sets.values()), dropped, expected=EXPECTED)
