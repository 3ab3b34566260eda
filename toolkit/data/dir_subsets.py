"""Which utterances a subset or a split of a data dir holds (subset_data_dir, split_data)."""
import json
import logging
import os
import random

from toolkit.data.dir_ops import known_files, read_dir, select, warn_other, write_dir
from toolkit.data.tables import iter_table, utt2spk_to_spk2utt
from toolkit.utils.errors import DataError


def _check_count(n, available, what):
    if not 0 < n <= available:
        raise DataError(f"cannot select {n} {what}: the data dir has {available}")


def first_utts(tables, n):
    """The first `n` utterances in sorted order."""
    _check_count(n, len(tables.utts), "utterances")
    return tables.utts[:n]


def last_utts(tables, n):
    """The last `n` utterances in sorted order."""
    _check_count(n, len(tables.utts), "utterances")
    return tables.utts[-n:]


def random_utts(tables, n, seed=0):
    """`n` utterances drawn at random (reproducible for a given seed)."""
    _check_count(n, len(tables.utts), "utterances")
    return sorted(random.Random(seed).sample(tables.utts, n))


def per_speaker_utts(tables, n):
    """Up to `n` utterances of each speaker, evenly spaced through its sorted list (Kaldi --per-spk)."""
    if n <= 0:
        raise DataError(f"cannot select {n} utterances per speaker")
    chosen = []
    for utts in utt2spk_to_spk2utt(tables.files["utt2spk"]).values():
        chosen += [utts[i * len(utts) // n] for i in range(n)] if len(utts) > n else utts
    return sorted(chosen)


def listed(path, keys, what):
    """The keys named in the first column of file `path` that are in `keys`; absent ones are logged."""
    wanted = [key for _, key, _ in iter_table(path)]
    missing = [key for key in wanted if key not in keys]
    if missing:
        logging.warning("%s: %d of %d %s not in the data dir, skipped: %s%s", path, len(missing), len(wanted),
                        what, " ".join(missing[:5]), " ..." if len(missing) > 5 else "")
    return sorted(set(wanted) - set(missing))


def speakers_utts(tables, speakers):
    """All utterances of the given speakers."""
    speakers = set(speakers)
    return sorted(u for u, s in tables.files["utt2spk"].items() if s in speakers)


def partition(utts, n):
    """`n` contiguous chunks of `utts` whose sizes differ by at most one."""
    _check_count(n, len(utts), "splits of utterances")
    size, extra = divmod(len(utts), n)
    bounds = [i * size + min(i, extra) for i in range(n + 1)]
    return [utts[bounds[i]:bounds[i + 1]] for i in range(n)]


def partition_by_speaker(tables, n):
    """`n` contiguous groups of whole speakers (sorted), balanced in utterance count."""
    spk2utt = utt2spk_to_spk2utt(tables.files["utt2spk"])
    speakers = sorted(spk2utt)
    _check_count(n, len(speakers), "splits of speakers")
    cumulative = [0]
    for spk in speakers:
        cumulative.append(cumulative[-1] + len(spk2utt[spk]))
    cuts = [0]
    for j in range(1, n):
        target = j * cumulative[-1] / n
        allowed = range(cuts[-1] + 1, len(speakers) - (n - j) + 1)
        cuts.append(min(allowed, key=lambda k: abs(cumulative[k] - target)))
    cuts.append(len(speakers))
    return [sorted(u for spk in speakers[cuts[i]:cuts[i + 1]] for u in spk2utt[spk]) for i in range(n)]


def _stamp(path, per_spk):
    """What a split depends on: the mode and each source file's size and mtime."""
    files = {}
    for name in known_files(path)[0]:
        st = os.stat(os.path.join(path, name))
        files[name] = [st.st_size, st.st_mtime_ns]
    return {"per_spk": per_spk, "files": files}


def split_dir(path, n, per_spk=False):
    """Write `path`/split{n}/1..n as data dirs; returns (their paths, reused).

    A split whose stamp (mode, size and mtime of every source file) matches is reused.
    """
    out = os.path.join(path, f"split{n}")
    parts = [os.path.join(out, str(i)) for i in range(1, n + 1)]
    stamp_path = os.path.join(out, ".stamp.json")
    stamp = _stamp(path, per_spk)
    if os.path.isfile(stamp_path) and all(os.path.isdir(p) for p in parts):
        with open(stamp_path, encoding="utf-8") as f:
            if json.load(f) == stamp:
                return parts, True
    if os.path.isfile(stamp_path):
        os.remove(stamp_path)
    tables = read_dir(path)
    warn_other(tables, path, f"copied into split{n}")
    chunks = partition_by_speaker(tables, n) if per_spk else partition(tables.utts, n)
    for part, utts in zip(parts, chunks):
        write_dir(select(tables, utts), part)
    with open(stamp_path, "w", encoding="utf-8") as f:
        json.dump(stamp, f)
    return parts, False
