"""A whole Kaldi data dir in memory, and the operations that keep its files consistent.

Every known file belongs to one level, the kind of id its keys are:
  utterance  text, utt2spk, segments, feats.scp, spkN.scp, ... (datadir.UTT_FILES)
  recording  wav.scp, reco2file_and_channel, reco2dur  -- with segments only; without
             segments a recording is an utterance and these files are utterance files
  speaker    spk2gender, cmvn.scp (spk2utt is always rebuilt from utt2spk)
Other regular files (frame_shift, conf files, ...) are listed in `Tables.other`:
callers say they were not carried over. Names starting with '.' and folders
(split4/, .backup/) are ignored.
"""
import logging
import os
from dataclasses import dataclass, field

from toolkit.data.datadir import SPK_SCP, UTT_FILES, read_segments
from toolkit.data.tables import read_table, utt2spk_to_spk2utt, write_table
from toolkit.utils.errors import DataError

RECO_FILES = ("wav.scp", "reco2file_and_channel", "reco2dur")
SPK_FILES = ("spk2gender", "cmvn.scp")
# Files whose value may be empty (an empty transcript is still a transcript).
MAY_BE_EMPTY = ("text",)


def level(name, segmented):
    """'utt', 'reco' or 'spk' for a known file name, None for anything else."""
    if name in RECO_FILES:
        return "reco" if segmented else "utt"
    if name in SPK_FILES:
        return "spk"
    if name == "segments" or name in UTT_FILES or SPK_SCP.match(name):
        return "utt"
    return None


@dataclass
class Tables:
    """The tables of a data dir: file name -> {key: value}; `other` are files not understood."""

    files: dict
    other: list = field(default_factory=list)

    @property
    def segmented(self):
        return "segments" in self.files

    def names(self, lvl):
        """Names of the files at level `lvl`, sorted."""
        return sorted(n for n in self.files if level(n, self.segmented) == lvl)

    @property
    def utts(self):
        return sorted(self.files["utt2spk"])

    def utt2reco(self):
        """{utt: recording}: from segments, else each utterance is its own recording."""
        if self.segmented:
            return {u: v.split()[0] for u, v in self.files["segments"].items()}
        return {u: u for u in self.files["utt2spk"]}


def known_files(path):
    """(known file names, other file names) of the regular files in a data dir."""
    if not os.path.isdir(path):
        raise DataError(f"{path}: data directory does not exist")
    segmented = os.path.isfile(os.path.join(path, "segments"))
    known, other = [], []
    for name in sorted(os.listdir(path)):
        if name.startswith(".") or name == "spk2utt" or not os.path.isfile(os.path.join(path, name)):
            continue
        (known if level(name, segmented) else other).append(name)
    return known, other


def check_required(path, known):
    """DataError unless the file names `known` include wav.scp and utt2spk."""
    for required in ("wav.scp", "utt2spk"):
        if required not in known:
            raise DataError(f"{path}: no {required}; every data dir needs wav.scp and utt2spk")


def read_dir(path):
    """Read every known file of a data dir (strict: duplicate keys are errors)."""
    known, other = known_files(path)
    check_required(path, known)
    files = {n: read_table(os.path.join(path, n), allow_empty=n in MAY_BE_EMPTY) for n in known}
    if "segments" in files:
        read_segments(os.path.join(path, "segments"))  # DataError on a malformed line
    return Tables(files, other)


def warn_other(tables, src, action):
    """Log the files of `src` that an operation does not carry over."""
    if tables.other:
        logging.warning("%s: not %s (not a known data dir file): %s", src, action, " ".join(tables.other))


def select(tables, utts):
    """Tables restricted to `utts`, the recordings their segments use and their speakers."""
    utts = set(utts)
    out = {n: {k: v for k, v in t.items() if k in utts}
           for n, t in tables.files.items() if level(n, tables.segmented) == "utt"}
    kept = Tables(out, list(tables.other))
    recos = set(kept.utt2reco().values())
    spks = set(out["utt2spk"].values())
    for name in tables.names("reco"):
        out[name] = {k: v for k, v in tables.files[name].items() if k in recos}
    for name in tables.names("spk"):
        out[name] = {k: v for k, v in tables.files[name].items() if k in spks}
    return kept


def rename(tables, utt=str, spk=str):
    """Tables with utterance ids mapped by `utt` and speaker ids by `spk` (functions).

    Recording ids are mapped by `utt` too (Kaldi's copy_data_dir.sh), both as keys
    and inside segments; speakers are mapped inside utt2spk.
    """
    maps = {"utt": utt, "reco": utt, "spk": spk}
    files = {}
    for name, table in tables.files.items():
        key = maps[level(name, tables.segmented)]
        files[name] = {key(k): v for k, v in table.items()}
    files["utt2spk"] = {k: spk(v) for k, v in files["utt2spk"].items()}
    if tables.segmented:
        files["segments"] = {k: f"{utt(reco)} {times}" for k, (reco, times)
                             in ((k, v.split(maxsplit=1)) for k, v in files["segments"].items())}
    return Tables(files, list(tables.other))


def with_segments(tables):
    """A segmented copy of `tables`: each utterance covers its whole recording (`utt utt 0 -1`)."""
    if tables.segmented:
        return tables
    files = dict(tables.files, segments={u: f"{u} 0 -1" for u in tables.files["utt2spk"]})
    return Tables(files, list(tables.other))


def combine(sources):
    """Union of [(name, Tables), ...].

    A key found in several sources with different values is a DataError naming both.
    A file that only some sources have is dropped with a warning naming it. When some
    sources have segments, the others get whole-recording segments.
    """
    if any(t.segmented for _, t in sources):
        sources = [(src, with_segments(t)) for src, t in sources]
    common = set.intersection(*(set(t.files) for _, t in sources))
    for name in sorted(set.union(*(set(t.files) for _, t in sources)) - common):
        lacking = [src for src, t in sources if name not in t.files]
        logging.warning("dropping %s: missing in %s", name, " ".join(lacking))
    files = {}
    for name in sorted(common):
        merged, origin = {}, {}
        for src, t in sources:
            for key, value in t.files[name].items():
                if key in merged and merged[key] != value:
                    raise DataError(f"{name}: key {key!r} is {merged[key]!r} in {origin[key]} but {value!r} "
                                    f"in {src}; make the ids unique (copy_data_dir.sh --utt_prefix)")
                merged[key], origin[key] = value, src
        files[name] = merged
    return Tables(files, sorted({n for _, t in sources for n in t.other}))


def write_dir(tables, path):
    """Write all tables and spk2utt; known files in `path` that `tables` lacks are removed."""
    os.makedirs(path, exist_ok=True)
    stale = [n for n in known_files(path)[0] if n not in tables.files]
    for name in stale:
        os.remove(os.path.join(path, name))
        logging.info("%s: removed stale %s", path, name)
    for name, table in tables.files.items():
        write_table(os.path.join(path, name), table)
    write_table(os.path.join(path, "spk2utt"), utt2spk_to_spk2utt(tables.files["utt2spk"]))


def check_distinct(src, dest):
    """DataError when `dest` is `src`: operations that write a new dir must not overwrite their input."""
    if os.path.abspath(src) == os.path.abspath(dest):
        raise DataError(f"{dest}: destination is the source directory; give a new directory")
