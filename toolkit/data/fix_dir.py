"""fix_data_dir: make a data dir consistent and say what was removed and why.

Kept: utterances with a non-empty value in every utterance file (an invalid
segments line counts as empty), whose recording has a value in every recording
file and whose speaker has one in every speaker file (spk2gender, cmvn.scp);
recordings and speakers that kept utterances use. Duplicate keys keep their
first line. Everything is sorted and spk2utt rebuilt from utt2spk.

When anything changes, the files are first copied into DIR/.backup/ and every
removed entry is listed, one `key reason` a line, in DIR/.backup/removed.txt.
"""
import os
import shutil
from dataclasses import dataclass

from toolkit.data.dir_ops import Tables, check_required, known_files, select, write_dir
from toolkit.data.tables import iter_table, utt2spk_to_spk2utt

BACKUP = ".backup"


@dataclass
class FixReport:
    """counts: {'utterances'|'recordings'|'speakers': (before, after)}; removed: ['key reason', ...]."""

    counts: dict
    removed: list
    changed: bool


def _read_lenient(path, name, removed):
    """(table, is_sorted) keeping the first line of a key; later duplicates go to `removed`."""
    table, keys = {}, []
    for lineno, key, value in iter_table(path):
        if key in table:
            removed.append(f"{key} duplicate in {name} (line {lineno} dropped)")
            continue
        table[key] = value
        keys.append(key)
    return table, keys == sorted(keys)


def _segment_ok(value):
    fields = value.split()
    try:
        start, end = float(fields[1]), float(fields[2])
    except (IndexError, ValueError):
        return False
    return len(fields) == 3 and start >= 0 and (end > start or end == -1)


def _problems(keys, tables):
    """{key: 'missing in a, b; empty in c'} for each key not valid in every table."""
    found = {}
    for key in keys:
        missing = [n for n, t in tables.items() if key not in t]
        parts = [f"missing in {', '.join(missing)}"] if missing else []
        for name, table in tables.items():
            if key in table and not (_segment_ok if name == "segments" else bool)(table[key]):
                parts.append(f"{'invalid' if name == 'segments' else 'empty'} in {name}")
        if parts:
            found[key] = "; ".join(parts)
    return found


def _check_owners(utts, owner_of, tables, noun, removed):
    """Drop utterances whose recording or speaker (`owner_of[utt]`) is not valid in all `tables`.

    Returns (kept utterances, valid owners found in the tables).
    """
    owners = set().union(*tables.values())
    bad = _problems(owners | {owner_of[u] for u in utts}, tables)
    removed += [f"{o} {noun} {p}" for o, p in sorted(bad.items()) if o in owners]
    dropped = sorted(u for u in utts if owner_of[u] in bad)
    removed += [f"{u} {noun} {owner_of[u]} {bad[owner_of[u]]}" for u in dropped]
    return utts - set(dropped), owners - set(bad)


def fix_dir(path):
    """Fix `path` in place; returns a FixReport."""
    known, other = known_files(path)
    check_required(path, known)
    removed, files, unsorted = [], {}, []
    for name in known:
        files[name], is_sorted = _read_lenient(os.path.join(path, name), name, removed)
        if not is_sorted:
            unsorted.append(name)
    tables = Tables(files, other)

    utt_tables = {n: files[n] for n in tables.names("utt")}
    all_utts = set().union(*utt_tables.values())
    bad = _problems(all_utts, utt_tables)
    removed += [f"{u} {p}" for u, p in sorted(bad.items())]
    utts, recos = all_utts - set(bad), set()
    if tables.segmented:
        utt2reco = {u: files["segments"][u].split()[0] for u in utts}
        utts, recos = _check_owners(utts, utt2reco, {n: files[n] for n in tables.names("reco")},
                                    "recording", removed)
    utts, speakers = _check_owners(utts, files["utt2spk"], {n: files[n] for n in tables.names("spk")},
                                   "speaker", removed)
    fixed = select(tables, utts)
    kept_spks = set(fixed.files["utt2spk"].values())
    removed += [f"{r} recording without kept utterances" for r in sorted(recos - set(fixed.files["wav.scp"]))]
    removed += [f"{s} speaker without kept utterances" for s in sorted(speakers - kept_spks)]

    spk2utt_path = os.path.join(path, "spk2utt")
    has_spk2utt = os.path.isfile(spk2utt_path)
    old_spk2utt = _read_lenient(spk2utt_path, "spk2utt", [])[0] if has_spk2utt else None
    new_spk2utt = utt2spk_to_spk2utt(fixed.files["utt2spk"])
    changed = bool(removed or unsorted) or old_spk2utt != {s: " ".join(u) for s, u in new_spk2utt.items()}
    if changed:
        backup = os.path.join(path, BACKUP)
        os.makedirs(backup, exist_ok=True)
        for name in known + (["spk2utt"] if has_spk2utt else []):
            shutil.copy2(os.path.join(path, name), backup)
        with open(os.path.join(backup, "removed.txt"), "w", encoding="utf-8") as f:
            f.writelines(line + "\n" for line in removed)
        write_dir(fixed, path)
    counts = {"utterances": (len(all_utts), len(utts)),
              "recordings": (len(files["wav.scp"]), len(fixed.files["wav.scp"])),
              "speakers": (len(set(files["utt2spk"].values())), len(kept_spks))}
    return FixReport(counts, removed, changed)
