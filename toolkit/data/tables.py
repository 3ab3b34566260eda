"""Kaldi table files: one `key value` per line (wav.scp, text, utt2spk, segments, ...).

Keys are unique and sorted in C (byte) order; for UTF-8 text that is Python's
codepoint order, so `sorted()` matches `LC_ALL=C sort`.
"""
import os

import numpy as np

from toolkit.utils.errors import DataError


def iter_table(path):
    """Yield (line_number, key, value) for every non-blank line; value may be ''.

    Raises DataError naming file and line for text that is not UTF-8.
    """
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as err:
                raise DataError(f"{path}:{lineno}: not valid UTF-8 ({err.reason} at byte {err.start}); "
                                f"re-encode the file as UTF-8") from None
            if not line.strip():
                continue
            key, _, value = line.strip().partition(" ")
            yield lineno, key, value.strip()


def read_table(path, allow_empty=False):
    """Read a table into a dict (file order). Duplicate keys and missing values are DataErrors."""
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file")
    table = {}
    for lineno, key, value in iter_table(path):
        if key in table:
            raise DataError(f"{path}:{lineno}: duplicate key {key!r}; run utils/fix_data_dir.sh")
        if not value and not allow_empty:
            raise DataError(f"{path}:{lineno}: key {key!r} has no value")
        table[key] = value
    return table


def read_int_table(path, what="values", allow_empty=True):
    """{key: int64 array} of a table of integer lists (token_int, durations); DataError naming the key."""
    table = {}
    for key, value in read_table(path, allow_empty=allow_empty).items():
        try:
            table[key] = np.array(value.split(), dtype=np.int64)
        except ValueError:
            raise DataError(f"{path}: utterance {key!r}: {what} must be integers, got {value!r}") from None
    return table


def write_table(path, table):
    """Write a dict as `key value` lines sorted in C order (atomic: temp file then rename)."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        for key in sorted(table):
            value = table[key]
            if isinstance(value, (list, tuple)):
                value = " ".join(str(v) for v in value)
            f.write(f"{key} {value}\n" if str(value) != "" else f"{key}\n")
    os.replace(tmp, path)


def utt2spk_to_spk2utt(utt2spk):
    """{utt: spk} -> {spk: [utt, ...]} with utterances in sorted order."""
    spk2utt = {}
    for utt in sorted(utt2spk):
        spk2utt.setdefault(utt2spk[utt], []).append(utt)
    return spk2utt


def spk2utt_to_utt2spk(spk2utt):
    """{spk: [utt, ...]} or {spk: 'utt utt'} -> {utt: spk}."""
    utt2spk = {}
    for spk, utts in spk2utt.items():
        for utt in utts.split() if isinstance(utts, str) else utts:
            utt2spk[utt] = spk
    return utt2spk
