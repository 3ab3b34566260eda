"""What the corpus parsers share: finding the corpus, pairing audio with text, writing the sets."""
import collections
import logging
import os
import shutil
from dataclasses import dataclass

from toolkit.data.audio_io import audio_info
from toolkit.data.datadir import write_data_dir
from toolkit.utils.errors import ConfigError, DataError


def find_root(src, name, marker, download):
    """The corpus root: `src` itself or `src/name`, whichever holds `marker` (a path under the root).

    Raises DataError saying where the corpus was looked for and where to download it.
    """
    if not src:
        raise DataError(f"no {name} directory given (local/data.sh --corpus_dir DIR). {download}")
    for root in (src, os.path.join(src, name)):
        if os.path.exists(os.path.join(root, marker)):
            return root
    raise DataError(f"{name} not found: neither {os.path.join(src, marker)} nor "
                    f"{os.path.join(src, name, marker)} exists. {download}")


def read_lines(path):
    """Yield (line number, stripped line) for the non-blank lines of a UTF-8 text file."""
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file")
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError as err:
                raise DataError(f"{path}:{lineno}: not valid UTF-8 ({err.reason})") from None
            if line:
                yield lineno, line


def find_files(folder, suffix):
    """{file name without suffix: absolute path} of the files ending in `suffix` anywhere under `folder`."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(suffix):
                key = name[:-len(suffix)]
                if key in found:
                    raise DataError(f"{folder}: two files named {name}: {found[key]} and {os.path.join(dirpath, name)}")
                found[key] = os.path.abspath(os.path.join(dirpath, name))
    return found


class Dropped:
    """Utterances left out of the data dirs and why (written to DST/local/<corpus>_dropped.txt)."""

    def __init__(self):
        self.rows = []

    def add(self, set_name, utt, reason, detail):
        self.rows.append((set_name, utt, reason, detail))

    def write(self, path, corpus):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write("# set utterance reason where\n")
            for row in self.rows:
                f.write(" ".join(row) + "\n")
        if self.rows:
            counts = collections.Counter(reason for _, _, reason, _ in self.rows)
            examples = ", ".join(f"{s}/{u} ({r})" for s, u, r, _ in self.rows[:3])
            logging.warning("%s: dropped %d utterance(s): %s; e.g. %s; full list: %s", corpus, len(self.rows),
                            ", ".join(f"{n} {r}" for r, n in sorted(counts.items())), examples, path)


@dataclass
class CorpusSet:
    """One data dir to write: {utt: audio path}, {utt: transcript}, {utt: speaker}, optional spk2gender."""

    name: str
    wav_scp: dict
    text: dict
    utt2spk: dict
    spk2gender: dict = None

    def subset(self, name, utts):
        """A new set of the utterances `utts` (spk2gender keeps their speakers)."""
        utt2spk = {u: self.utt2spk[u] for u in utts}
        genders = self.spk2gender and {s: self.spk2gender[s] for s in set(utt2spk.values()) if s in self.spk2gender}
        return CorpusSet(name, {u: self.wav_scp[u] for u in utts}, {u: self.text[u] for u in utts}, utt2spk, genders)


def make_set(name, audio, text, speaker_of, dropped):
    """The set of utterances with audio and a non-empty transcript; the others are added to `dropped`.

    audio: {utt: path}; text: {utt: transcript}; speaker_of: utt -> speaker.
    """
    for utt in sorted(audio.keys() - text.keys()):
        dropped.add(name, utt, "no_transcript", audio[utt])
    for utt in sorted(text.keys() - audio.keys()):
        dropped.add(name, utt, "no_audio", "-")
    utts = sorted(audio.keys() & text.keys())
    for utt in utts:
        if not text[utt]:
            dropped.add(name, utt, "empty_transcript", audio[utt])
    utts = [u for u in utts if text[u]]
    return CorpusSet(name, {u: audio[u] for u in utts}, {u: text[u] for u in utts},
                     {u: speaker_of(u) for u in utts})


def write_sets(dst, corpus, sets, dropped, fs=16000, expected=None):
    """Write each set as DST/<name>/ (replacing what was there) and the dropped list; -> {name: count}.

    The first recording of each set must open (header) at rate `fs`; a set whose size differs from
    `expected` (the published release) gets a warning: the download may be incomplete.
    """
    dropped.write(os.path.join(dst, "local", f"{corpus}_dropped.txt"), corpus)
    for cset in sets:
        if not cset.utt2spk:
            raise DataError(f"{corpus}: set {cset.name} has no utterances (see {dst}/local/{corpus}_dropped.txt)")
        first = cset.wav_scp[min(cset.wav_scp)]
        rate = audio_info(first)[1]
        if rate != fs:
            raise DataError(f"{first}: sample rate {rate} Hz, expected {fs} Hz for {corpus}")
    for cset in sets:
        path = os.path.join(dst, cset.name)
        shutil.rmtree(path, ignore_errors=True)
        write_data_dir(path, cset.wav_scp, cset.utt2spk, text=cset.text,
                       extra={"spk2gender": cset.spk2gender} if cset.spk2gender else None)
        want = (expected or {}).get(cset.name)
        if want is not None and want != len(cset.utt2spk):
            logging.warning("%s: %s has %d utterances, the release has %d: is the download complete?",
                            corpus, path, len(cset.utt2spk), want)
    return {cset.name: len(cset.utt2spk) for cset in sets}


def check_corpus_options(parser, args, owners):
    """ConfigError for an option set away from its default for a corpus other than its owner.

    owners: {option name: corpus it applies to}; args.corpus is the chosen corpus.
    """
    for option, corpus in owners.items():
        if args.corpus != corpus and getattr(args, option) != parser.get_default(option):
            raise ConfigError(f"--{option} applies to {corpus}, not {args.corpus}")
