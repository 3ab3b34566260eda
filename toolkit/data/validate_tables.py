"""Validation of a data dir's table files and of the links between them.

Every check reports into a Report and goes on: one run lists every problem.
"""
import math
import os
import re
import unicodedata
from collections import Counter

FIX_HINT = "run utils/fix_data_dir.sh"
SORT_HINT = "run utils/fix_data_dir.sh or sort the file with `LC_ALL=C sort`"
SPK2UTT_HINT = "rebuild spk2utt from utt2spk (utils/fix_data_dir.sh does)"
JOINERS = {"\u200c", "\u200d"}  # zero-width (non-)joiners belong to Indic and Persian spelling


class Report:
    """Errors and warnings as 'file:line: kind 'key': problem detail' strings.

    Each problem kind is listed at most `max_listed` times per file (0: no limit);
    the rest are counted in a closing '... and N more' line.
    """

    def __init__(self, max_listed=20):
        self.errors, self.warnings = [], []
        self.max_listed = max_listed
        self._counts = Counter()

    def error(self, loc, problem, detail=""):
        self._add("errors", loc, problem, detail)

    def warning(self, loc, problem, detail=""):
        self._add("warnings", loc, problem, detail)

    def _add(self, level, loc, problem, detail):
        path, line, kind, key = loc
        self._counts[level, path, problem] += 1
        if self.max_listed and self._counts[level, path, problem] > self.max_listed:
            return
        where = f"{path}:{line}" if line else path
        if key is not None:
            where += f": {kind} {key!r}"
        getattr(self, level).append(f"{where}: {problem}" + (f" {detail}" if detail else ""))

    def close(self):
        """Add the '... and N more' lines for problems over the listing limit."""
        for (level, path, problem), count in self._counts.items():
            if self.max_listed and count > self.max_listed:
                getattr(self, level).append(f"{path}: ... and {count - self.max_listed} more '{problem}'")


def file_loc(path):
    """Location of a whole file (no line, no key)."""
    return (path, None, None, None)


class Table:
    """A table file as read for validation: first value and line of each key."""

    def __init__(self, path, kind):
        self.path, self.kind = path, kind
        self.values, self.lines = {}, {}
        self.bad = set()  # keys whose value is malformed: later checks skip them

    def loc(self, key, line=None):
        return (self.path, line or self.lines.get(key), self.kind, key)

    def good(self):
        """(key, value) of keys with well-formed values."""
        return [(k, v) for k, v in self.values.items() if k not in self.bad]


def _char_name(text, index):
    char = text[index]
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}{' ' + name if name else ''} at column {index + 1}"


def _bad_key_char(key):
    return next((i for i, c in enumerate(key) if not c.isprintable()), None)


def _bad_text_char(text):
    """Index of the first control, format, private-use or unassigned character (tab allowed)."""
    return next((i for i, c in enumerate(text)
                 if unicodedata.category(c)[0] == "C" and c != "\t" and c not in JOINERS), None)


def _count(value):
    if not re.fullmatch(r"[0-9]+", value) or int(value) == 0:
        return "malformed number", f"expected a positive integer, got {value!r}"
    return None


def _seconds(value):
    try:
        ok = math.isfinite(float(value)) and float(value) > 0
    except ValueError:
        ok = False
    return None if ok else ("malformed number", f"expected positive seconds, got {value!r}")


def _durations(value):
    if not all(re.fullmatch(r"[0-9]+", v) for v in value.split()):
        return "malformed number", f"expected non-negative integers (frames per token), got {value!r}"
    return None


def _speaker(value):
    return None if len(value.split()) == 1 else ("malformed value", f"expected one speaker id, got {value!r}")


def parse_segment(value):
    """'recording start end' -> (recording, start, end); ValueError says what is wrong."""
    fields = value.split()
    if len(fields) != 3:
        raise ValueError(f"expected 'recording start end', got {value!r}")
    try:
        start, end = float(fields[1]), float(fields[2])
    except ValueError:
        raise ValueError(f"start and end must be seconds, got {value!r}") from None
    if not (math.isfinite(start) and math.isfinite(end)):
        raise ValueError(f"start and end must be finite, got {value!r}")
    return fields[0], start, end


def _segment(value):
    try:
        _, start, end = parse_segment(value)
    except ValueError as err:
        return "malformed segment", str(err)
    if start < 0:
        return "segment starts before 0", f"(start {start})"
    if end != -1 and end <= start:
        return "segment ends before it starts", f"(start {start}, end {end})"
    return None


VALUE_CHECKS = {"utt2num_samples": _count, "utt2num_frames": _count, "utt2dur": _seconds,
                "durations": _durations, "segments": _segment, "utt2spk": _speaker}


def read_checked_table(path, kind, report):
    """Read one table file, reporting encoding, key, order and value problems; -> Table."""
    name = os.path.basename(path)
    table, prev, unsorted = Table(path, kind), None, []
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                line, problem = raw.decode("utf-8"), None
            except UnicodeDecodeError as err:
                # keep the line (undecodable bytes replaced) so its key still counts in the key sets
                line = raw.decode("utf-8", errors="replace")
                problem = ("not valid UTF-8", f"(byte 0x{raw[err.start]:02x} at byte {err.start + 1} of the line); "
                                              f"re-encode the file as UTF-8")
            if not line.strip():
                report.warning((path, lineno, None, None), "blank line", "(ignored by readers)")
                continue
            key, _, value = line.strip().partition(" ")
            value = value.strip()
            loc = table.loc(key, lineno)
            bad = _bad_key_char(key)
            if bad is not None:
                report.error(loc, "control character in key",
                             f"({_char_name(key, bad)}); separate key and value by one space")
            if key in table.values:
                report.error(loc, "duplicate key",
                             f"(first on line {table.lines[key]}); remove one ({FIX_HINT} keeps the first)")
                continue
            table.values[key], table.lines[key] = value, lineno
            if prev is not None and key < prev[1]:
                unsorted.append((lineno, key, prev))
            prev = (lineno, key)
            problem = problem or _check_value(name, value)
            if problem:
                report.error(loc, *problem)
                table.bad.add(key)
    if unsorted:
        lineno, key, (prev_line, prev_key) = unsorted[0]
        report.error(table.loc(key, lineno), "keys not sorted in C order",
                     f"(comes after {prev_key!r} on line {prev_line}; {len(unsorted)} line(s) out of order); "
                     f"{SORT_HINT}")
    return table


def _check_value(name, value):
    """(problem, detail) for a missing or malformed value, else None."""
    if name == "text":
        if not value:
            return "empty transcript", "(drop the utterance or give it a transcript)"
        bad = _bad_text_char(value)
        return None if bad is None else ("non-printable character in transcript", f"({_char_name(value, bad)})")
    if not value:
        return "no value", f"(expected 'key value' lines in {name})"
    check = VALUE_CHECKS.get(name)
    return check(value) if check else None


def _examples(keys, table):
    shown = ", ".join(f"{k!r} (line {table.lines[k]})" for k in keys[:3])
    return shown + (", ..." if len(keys) > 3 else "")


def compare_keys(table, ref, report):
    """Report keys of `ref` missing from `table` and keys of `table` not in `ref`."""
    missing = sorted(ref.values.keys() - table.values.keys())
    extra = sorted(table.values.keys() - ref.values.keys())
    if missing:
        report.error(file_loc(table.path), "keys missing",
                     f"({len(missing)} {ref.kind}(s) of {ref.path} are not here, e.g. {_examples(missing, ref)}); "
                     f"{FIX_HINT} to keep the utterances every file has")
    if extra:
        report.error(file_loc(table.path), "extra keys",
                     f"({len(extra)} {table.kind}(s) here are not in {ref.path}, e.g. {_examples(extra, table)}); "
                     f"{FIX_HINT}")


def check_speakers(utt2spk, spk2utt, report):
    """utt2spk and spk2utt must describe the same utterance -> speaker map."""
    listed = {}
    for spk, value in spk2utt.values.items():
        for utt in value.split():
            if utt in listed:
                first = listed[utt]
                report.error(spk2utt.loc(spk), "utt listed under two speakers",
                             f"({utt!r} is also under {first!r}, line {spk2utt.lines[first]}); {SPK2UTT_HINT}")
                continue
            listed[utt] = spk
            if utt not in utt2spk.values:
                report.error(spk2utt.loc(spk), "utt not in utt2spk",
                             f"(lists {utt!r}, which {utt2spk.path} lacks); {SPK2UTT_HINT}")
    for utt, spk in utt2spk.good():
        if utt not in listed:
            report.error(utt2spk.loc(utt), "utt not in spk2utt",
                         f"(speaker {spk!r} in {spk2utt.path} does not list it); {SPK2UTT_HINT}")
        elif listed[utt] != spk:
            other = listed[utt]
            report.error(utt2spk.loc(utt), "speaker disagrees with spk2utt",
                         f"({spk!r} here, {other!r} in {spk2utt.path}:{spk2utt.lines[other]}); {SPK2UTT_HINT}")


def check_links(tables, report):
    """Agreement between files: utterance keys, recordings, speakers, durations."""
    segmented = "segments" in tables
    ref = next((tables[n] for n in ("utt2spk", "segments", "wav.scp") if n in tables), None)
    for name, table in tables.items():
        if ref is not None and table is not ref and name != "spk2utt" and not (name == "wav.scp" and segmented):
            compare_keys(table, ref, report)
    if segmented and "wav.scp" in tables:
        wav, segments = tables["wav.scp"], tables["segments"]
        used = set()
        for utt, value in segments.good():
            reco = value.split()[0]
            used.add(reco)
            if reco not in wav.values:
                report.error(segments.loc(utt), "unknown recording",
                             f"({reco!r} is not in {wav.path}); {FIX_HINT}")
        unused = sorted(wav.values.keys() - used)
        if unused:
            report.warning(file_loc(wav.path), "recordings without segments",
                           f"({len(unused)} recording(s) no segment uses, e.g. {_examples(unused, wav)})")
    if "utt2spk" in tables and "spk2utt" in tables:
        check_speakers(tables["utt2spk"], tables["spk2utt"], report)
    if "durations" in tables and "utt2num_frames" in tables:
        durations, frames = tables["durations"], tables["utt2num_frames"]
        for utt, value in durations.good():
            total = sum(int(v) for v in value.split())
            if utt in frames.values and utt not in frames.bad and total != int(frames.values[utt]):
                report.error(durations.loc(utt), "durations do not add up to utt2num_frames",
                             f"(sum {total}, {frames.path}:{frames.lines[utt]} says {frames.values[utt]})")
