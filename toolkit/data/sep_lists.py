"""Separation data dirs: writing them, and importing ClearerVoice-Studio list files into them.

A separation data dir holds wav.scp (utt -> mixture), spk1.scp .. spkN.scp (utt -> reference
source, same rate and length as the mixture), utt2spk (a mixture is its own speaker), spk2utt
and utt2num_samples. Nothing is resampled: a rate or length mismatch is an error.

ClearerVoice-Studio's training lists (e.g. train/speech_separation/data/tr_wsj0_2mix_16k.scp,
read by its dataloader/misc.py) hold one example a line, paths separated by white space; its
`load_type` option says how to read them:
  one_input_multi_outputs   MIX S1 S2 ...   separation: the mixture, then one reference per speaker
  one_input_one_output      NOISY CLEAN     enhancement: the input and a single reference
The utterance id is the mixture file name without its extension.
"""
import os

from toolkit.data.audio_io import audio_info
from toolkit.data.datadir import UTT_FILES, speaker_scps, write_data_dir
from toolkit.utils.errors import ConfigError, DataError

FORMATS = ("one_input_multi_outputs", "one_input_one_output")


def write_sep_dir(path, wav_scp, sources, num_samples, extra=None):
    """Write a separation data dir; files of an earlier content of `path` (spkN.scp, text, ...) are removed.

    wav_scp: {utt: mixture}; sources: [{utt: reference}, ...] -> spk1.scp, spk2.scp, ...;
    num_samples: {utt: samples}; extra: {file name: {utt: value}} (e.g. noise1.scp).
    """
    if os.path.isdir(path):
        stale = speaker_scps(path) + [n for n in UTT_FILES + ("segments",) if os.path.isfile(os.path.join(path, n))]
        for name in stale:
            os.remove(os.path.join(path, name))
    tables = {f"spk{i}.scp": table for i, table in enumerate(sources, 1)}
    tables["utt2num_samples"] = num_samples
    tables.update(extra or {})
    write_data_dir(path, wav_scp, {utt: utt for utt in wav_scp}, extra=tables)


def _roles(num_spks):
    return ["mixture"] + [f"source {i}" for i in range(1, num_spks + 1)]


def read_sep_list(list_path, num_spks, list_format="one_input_multi_outputs", root="."):
    """Parse a ClearerVoice-Studio list -> [(lineno, utt, [mixture, source 1, ...])] with absolute paths.

    Relative paths are resolved against `root`. Raises DataError listing every bad line, missing
    file and duplicate id as LIST:LINE.
    """
    if list_format not in FORMATS:
        raise ConfigError(f"--format {list_format}: must be one of {', '.join(FORMATS)}")
    if list_format == "one_input_one_output" and num_spks != 1:
        raise ConfigError(f"--format one_input_one_output has one reference a line (NOISY CLEAN): "
                          f"use --num_spks 1, not {num_spks}, or --format one_input_multi_outputs")
    if not os.path.isfile(list_path):
        raise DataError(f"{list_path}: no such list file")
    roles = _roles(num_spks)
    entries, problems, first_line = [], [], {}
    with open(list_path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            where = f"{list_path}:{lineno}"
            if len(fields) != len(roles):
                problems.append(f"{where}: expected {len(roles)} paths ({' '.join(roles)}) for {list_format} "
                                f"with --num_spks {num_spks}, got {len(fields)}")
                continue
            paths = [os.path.abspath(os.path.join(root, p)) for p in fields]
            problems += [f"{where}: {role} {p}: no such file" for role, p in zip(roles, paths) if not os.path.isfile(p)]
            utt = os.path.splitext(os.path.basename(paths[0]))[0]
            if utt in first_line:
                problems.append(f"{where}: mixture id {utt!r} ({fields[0]}) is already used at {list_path}:"
                                f"{first_line[utt]}; ids are the mixture file names and must be unique")
                continue
            first_line[utt] = lineno
            entries.append((lineno, utt, paths))
    if problems:
        raise DataError(f"{list_path}: {len(problems)} problem(s):\n  " + "\n  ".join(problems))
    if not entries:
        raise DataError(f"{list_path}: the list is empty")
    return entries


def check_sep_audio(list_path, entries, fs=None):
    """{utt: mixture samples} after checking every entry's headers; DataError listing each mismatch.

    Each reference must have the mixture's rate and length, all audio must be mono, and with
    `fs` every file must be at that rate.
    """
    num_samples, problems = {}, []
    for lineno, utt, paths in entries:
        where = f"{list_path}:{lineno}"
        infos = []
        for role, path in zip(_roles(len(paths) - 1), paths):
            try:
                infos.append(audio_info(path))
            except DataError as err:
                problems.append(f"{where}: {role}: {err}")
                infos.append(None)
        if infos[0] is None:
            continue
        (frames, rate, _), mix = infos[0], paths[0]
        for i, (role, path, info) in enumerate(zip(_roles(len(paths) - 1), paths, infos)):
            if info is None:
                continue
            if info[2] != 1:
                problems.append(f"{where}: {role} {path} has {info[2]} channels; the data dir holds mono audio")
            if fs is not None and info[1] != fs:
                problems.append(f"{where}: {role} {path} is {info[1]} Hz, not the --fs {fs} Hz asked for "
                                f"(nothing is resampled: point the list at {fs} Hz audio)")
            elif i and info[1] != rate:
                problems.append(f"{where}: {role} {path} is {info[1]} Hz but the mixture {mix} is {rate} Hz "
                                f"(nothing is resampled)")
            elif i and info[0] != frames:
                problems.append(f"{where}: {role} {path} has {info[0]} samples but the mixture {mix} has {frames}: "
                                f"references must be as long as the mixture")
        num_samples[utt] = frames
    if problems:
        raise DataError(f"{list_path}: {len(problems)} problem(s):\n  " + "\n  ".join(problems))
    return num_samples


def import_sep_list(list_path, out_dir, num_spks, list_format="one_input_multi_outputs", root=".", fs=None):
    """ClearerVoice-Studio list -> separation data dir `out_dir`; returns the number of utterances."""
    entries = read_sep_list(list_path, num_spks, list_format, root)
    num_samples = check_sep_audio(list_path, entries, fs)
    sources = [{utt: paths[i] for _, utt, paths in entries} for i in range(1, num_spks + 1)]
    write_sep_dir(out_dir, {utt: paths[0] for _, utt, paths in entries}, sources, num_samples)
    return len(entries)
