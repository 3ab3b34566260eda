"""Libri2Mix (Cosentino et al., 2020) generated from LibriMix's metadata, LibriSpeech and WHAM! noise.

Inputs (nothing is downloaded):
  LibriMix's metadata/Libri2Mix/libri2mix_PART.csv (https://github.com/JorisCos/LibriMix), PART in
    train-clean-100, train-clean-360, dev-clean, test-clean; header
    mixture_ID,source_1_path,source_1_gain,source_2_path,source_2_gain,noise_path,noise_gain.
    Source paths are relative to the LibriSpeech folder (test-clean/1089/134686/1089-134686-0000.flac),
    noise paths to the wham_noise folder (tt/22ga010t_1.2091_444c020e_-1.2091.wav);
  LibriSpeech (16 kHz FLAC); for mix_both also WHAM! noise (wham_noise.zip, 16 kHz). The
    train-clean-360 rows name speed-perturbed noise (tr/*sp08.wav, tr/*sp12.wav) that LibriMix's
    scripts/augment_train_noise.py writes into the wham_noise folder.

Generation, as LibriMix's create_librimix_from_metadata.py: each source times its gain, downsampled
to fs (Kaiser-windowed sinc, as scipy's resample_poly), then 'min' truncates all to the shortest and
'max' zero-pads all to the longest. The noise (mix_both) is the first channel of the first N samples
of its file, N the longest source at 16 kHz; a shorter noise is repeated with Hann cross-fades of
CROSSFADE samples (extend_noise); then gain, resampling and length as for a source.
int16: round(32768 x) (ties to even, clipped); mix_clean = s1 + s2 and mix_both = s1 + s2 + noise
exactly, in int16. LibriMix rounds the float sums instead (at most 1 LSB per source apart) and
soundfile scales by 32767. A mixture sample beyond the int16 range is clipped and counted in a warning.

Outputs: WAV_DIR/wav8k/min/<dev|test|train-100|train-360>/{s1,s2,mix_clean,mix_both,noise}/ID.wav
(LibriMix's layout) and the data dirs DST/<set>_clean_8k_min, and with noise DST/<set>_both_8k_min
(+ noise1.scp), set being dev, test, train_100 or train_360.
"""
import csv
import logging
import math
import os

import numpy as np

from toolkit.corpus.real.mixing import (check_fs_mode, check_missing, downsample, fit_lengths, int16_sum, make_sets,
                                        rate_dir, write_wavs)
from toolkit.corpus.synthesis import to_int16
from toolkit.data.audio_io import read_audio
from toolkit.data.sep_lists import write_sep_dir
from toolkit.utils.errors import ConfigError, DataError

# LibriSpeech part -> (LibriMix folder name, mixtures in the Libri2Mix release)
PARTS = {"train-clean-100": ("train-100", 13900), "train-clean-360": ("train-360", 50800),
         "dev-clean": ("dev", 3000), "test-clean": ("test", 3000)}
SOURCE_FS = 16000      # LibriSpeech and WHAM! noise
CROSSFADE = 8001       # samples of each Hann ramp when noise is repeated (half of a 16001-point window)
METADATA_URL = "https://github.com/JorisCos/LibriMix (metadata/Libri2Mix)"


def columns(num_spks):
    return (["mixture_ID"] + [f"source_{i}_{c}" for i in range(1, num_spks + 1) for c in ("path", "gain")]
            + ["noise_path", "noise_gain"])


def read_metadata(path, num_spks=2):
    """[(line number, mixture id, [(source path, gain)], (noise path, gain))] from a LibriMix CSV."""
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file; --lists_dir must hold LibriMix's libri{num_spks}mix_PART.csv "
                        f"files ({METADATA_URL})")
    want = columns(num_spks)
    rows, seen = [], {}
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != want:
            raise DataError(f"{path}:1: header {','.join(reader.fieldnames or [])!r}, expected {','.join(want)!r}")
        for row in reader:
            where = f"{path}:{reader.line_num}"
            try:
                gains = [float(row[f"source_{i}_gain"]) for i in range(1, num_spks + 1)] + [float(row["noise_gain"])]
                if not all(math.isfinite(g) for g in gains):
                    raise ValueError
            except (TypeError, ValueError):
                raise DataError(f"{where}: gains must be numbers: {row}") from None
            mix = row["mixture_ID"]
            if mix in seen:
                raise DataError(f"{where}: mixture_ID {mix} is already at line {seen[mix]}")
            seen[mix] = reader.line_num
            sources = [(row[f"source_{i}_path"], gains[i - 1]) for i in range(1, num_spks + 1)]
            rows.append((reader.line_num, mix, sources, (row["noise_path"], gains[-1])))
    if not rows:
        raise DataError(f"{path}: no mixtures")
    return rows


def find_root(src, name, rel_path, hint):
    """`src` or `src/name`, whichever holds the first folder of `rel_path` (a path from a metadata row)."""
    top = rel_path.split("/")[0]
    for root in (src, os.path.join(src, name)):
        if os.path.isdir(os.path.join(root, top)):
            return os.path.abspath(root)
    raise DataError(f"{name} not found: neither {os.path.join(src, top)} nor {os.path.join(src, name, top)} "
                    f"exists. {hint}")


def extend_noise(noise, length):
    """Repeat `noise` to `length` samples; each repeat starts with a CROSSFADE-sample Hann fade-in over the
    previous copy's fade-out (the two ramps sum to 1)."""
    if len(noise) < CROSSFADE:
        raise DataError(f"noise of {len(noise)} samples is too short to repeat with {CROSSFADE}-sample cross-fades")
    window = np.hanning(2 * CROSSFADE - 1)
    rise, fall = window[:CROSSFADE], window[CROSSFADE - 1::-1]
    out = noise
    while len(out) < length:
        out = np.concatenate((out[:len(out) - CROSSFADE], out[len(out) - CROSSFADE:] * fall + noise[:CROSSFADE] * rise,
                              noise[CROSSFADE:]))
    return out[:length]


def _read(path, end=None):
    x, rate = read_audio(path, end=end, dtype="float64", always_2d=True)
    if rate != SOURCE_FS:
        raise DataError(f"{path}: {rate} Hz; LibriMix's sources and noise are {SOURCE_FS} Hz")
    return x


def mix_row(sources, noise, fs, mode):
    """{"s1", "s2", ..., "mix_clean"[, "noise", "mix_both"]} int16 at `fs`, and clipped samples per mixture type.

    sources: [(path, gain)]; noise: (path, gain) or None for mix_clean only.
    """
    signals = []
    for path, gain in sources:
        x = _read(path)
        if x.shape[1] != 1:
            raise DataError(f"{path}: {x.shape[1]} channels; LibriSpeech is mono")
        signals.append(x[:, 0] * gain)
    if noise is not None:
        longest = max(len(s) for s in signals)
        x = _read(noise[0], end=longest / SOURCE_FS)[:, 0]
        signals.append((x if len(x) >= longest else extend_noise(x, longest)) * noise[1])
    parts = [to_int16(s) for s in fit_lengths([downsample(s, SOURCE_FS, fs) for s in signals], mode)]
    out = {f"s{i}": part for i, part in enumerate(parts[:len(sources)], 1)}
    out["mix_clean"], clipped = int16_sum(parts[:len(sources)])
    clipped = {"mix_clean": clipped}
    if noise is not None:
        out["noise"] = parts[-1]
        out["mix_both"], clipped["mix_both"] = int16_sum(parts)
    return out, clipped


def _mix_chunk(job):
    """Worker: make and write one chunk {"fs", "mode", "items": [(id, sources, noise, {kind: out path})]}
    -> [(id, samples, {mixture type: clipped samples})]."""
    done = []
    for mix_id, sources, noise, out_paths in job["items"]:
        try:
            signals, clipped = mix_row(sources, noise, job["fs"], job["mode"])
        except DataError as err:
            raise DataError(f"mixture {mix_id}: {err}") from None
        write_wavs(((out_paths[kind], signal) for kind, signal in signals.items()), job["fs"])
        done.append((mix_id, len(signals["mix_clean"]), clipped))
    return done


def _noise_hint(path):
    if "sp08" in path or "sp12" in path:
        return " (speed-perturbed noise: run LibriMix's scripts/augment_train_noise.py --wham_dir WHAM_DIR first)"
    return ""


def prepare(src, dst, lists_dir, wav_dir, fs=8000, mode="min", parts=tuple(PARTS), noise_dir=None, num_spks=2,
            nj=1):
    """Generate LibriMix at `fs` in `mode`: mix_clean, and mix_both when `noise_dir` (wham_noise) is given.

    src: the LibriSpeech folder (or the folder holding it); lists_dir: the folder of the metadata CSVs.
    Writes DST/<set>_clean_<kHz>k_<mode> (and <set>_both_...); returns {data dir name: mixtures}.
    """
    check_fs_mode("libri2mix", fs, mode)
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise ConfigError(f"unknown LibriMix part(s) {' '.join(unknown)}; the parts are {' '.join(PARTS)}")
    out_dir = rate_dir(wav_dir, fs, mode)
    kinds = [f"s{i}" for i in range(1, num_spks + 1)] + ["mix_clean"] + (["noise", "mix_both"] if noise_dir else [])
    plans, missing = {}, []
    for part in parts:
        csv_path = os.path.join(lists_dir, f"libri{num_spks}mix_{part}.csv")
        rows = read_metadata(csv_path, num_spks)
        speech_root = find_root(src, "LibriSpeech", rows[0][2][0][0],
                                "Give the LibriSpeech folder (https://www.openslr.org/12) or the folder holding it.")
        noise_root = noise_dir and find_root(noise_dir, "wham_noise", rows[0][3][0],
                                             "Give the wham_noise folder (wham_noise.zip) or the folder holding it.")
        items = []
        for lineno, mix, sources, noise in rows:
            sources = [(os.path.join(speech_root, p), g) for p, g in sources]
            missing += [f"{csv_path}:{lineno}: source {i} {p}" for i, (p, _) in enumerate(sources, 1)
                        if not os.path.isfile(p)]
            if noise_root:
                noise = (os.path.join(noise_root, noise[0]), noise[1])
                if not os.path.isfile(noise[0]):
                    missing.append(f"{csv_path}:{lineno}: noise {noise[0]}{_noise_hint(noise[0])}")
            outs = {kind: os.path.join(out_dir, PARTS[part][0], kind, f"{mix}.wav") for kind in kinds}
            items.append((mix, sources, noise if noise_root else None, outs))
        plans[part] = items
    check_missing(missing, "file(s) named by the LibriMix metadata are missing")
    made = make_sets("libri2mix", _mix_chunk, plans, fs, mode, out_dir, nj)
    counts = {}
    for part, items in plans.items():
        done = made[part]
        lengths = {mix: n for mix, n, _ in done}
        outs = {mix: paths for mix, _, _, paths in items}
        sources = [{m: p[f"s{i}"] for m, p in outs.items()} for i in range(1, num_spks + 1)]
        # LibriSpeech ids are SPEAKER-CHAPTER-UTTERANCE
        speakers = {mix: " ".join(os.path.basename(p).split("-")[0] for p, _ in srcs) for mix, srcs, _, _ in items}
        set_name = PARTS[part][0].replace("-", "_")
        for mixture in ("mix_clean", "mix_both") if noise_dir else ("mix_clean",):
            dir_name = f"{set_name}_{mixture[4:]}_{fs // 1000}k_{mode}"
            extra = {"utt2src_spk": speakers}
            if mixture == "mix_both":
                extra["noise1.scp"] = {m: p["noise"] for m, p in outs.items()}
            mixtures = {m: p[mixture] for m, p in outs.items()}
            write_sep_dir(os.path.join(dst, dir_name), mixtures, sources, lengths, extra)
            counts[dir_name] = len(lengths)
            clipped = {mix: c[mixture] for mix, _, c in done if c[mixture]}
            if clipped:
                logging.warning("libri2mix: %s: %d mixture(s) had samples beyond the int16 range, clipped "
                                "(so mix != sum of sources there): %s", dir_name, len(clipped),
                                ", ".join(f"{m} ({n})" for m, n in sorted(clipped.items())[:5]))
        if len(lengths) != PARTS[part][1] and num_spks == 2:
            logging.warning("libri2mix: %s has %d mixtures, the Libri2Mix release has %d: is the CSV complete?",
                            part, len(lengths), PARTS[part][1])
    return counts
