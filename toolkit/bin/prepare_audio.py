"""Resample, downmix, trim and normalise every utterance of a data dir into new wavs and a new data dir.

    python -m toolkit.bin.prepare_audio --in_dir data/raw --out_dir data/raw_16k --audio_dir wav/raw_16k \\
        [--fs 16000] [--downmix mean|left|right|none] [--normalize none|rms|lufs --target_level -23] \\
        [--trim true --trim_threshold_db -40 --trim_min_silence 0.1 --trim_keep 0.05] [--nj 2]

Writes <audio_dir>/<utt>.wav (PCM_16) and <out_dir>/: wav.scp with one file per utterance
(segments are materialised), utt2num_samples, spk2utt, the other tables copied, and
prepare_report.tsv (one row per utterance). An utterance that needs no change and already
is a whole PCM_16 wav file keeps its original path. Options: doc/audio_prep.md.
"""
import dataclasses
import logging
import multiprocessing
import os
import shutil

import soundfile as sf
import torch

from toolkit.audio.prepare import PrepareOptions, prepare
from toolkit.audio.resample import DOWNMIX_MODES
from toolkit.data.audio_io import is_pipe, read_audio, write_audio
from toolkit.data.datadir import DataDir, speaker_scps, write_data_dir
from toolkit.utils.config import get_parser, parse_args, str2bool
from toolkit.utils.errors import ConfigError, DataError, cli_main
from toolkit.utils.logging_setup import setup_logging

REPORT = "prepare_report.tsv"
REWRITTEN = ("wav.scp", "segments", "spk2utt", "utt2num_samples", REPORT)
# Describe the old audio or recordings; stale after resampling/trimming.
NOT_CARRIED = ("feats.scp", "cmvn.scp", "utt2num_frames", "utt2dur", "durations", "reco2dur",
               "reco2file_and_channel")
COLUMNS = ("utt", "orig_fs", "orig_dur", "new_dur", "steps", "level_db", "gain_db", "trim_start",
           "trim_end", "clip_limited", "note")


def get_args(argv=None):
    parser = get_parser(description=__doc__.split("\n")[0] + " See doc/audio_prep.md.")
    parser.add_argument("--in_dir", required=True, help="input data dir")
    parser.add_argument("--out_dir", required=True, help="output data dir (must differ from --in_dir)")
    parser.add_argument("--audio_dir", required=True, help="directory for the new wav files")
    defaults = PrepareOptions()
    parser.add_argument("--fs", type=int, default=defaults.fs, help="output sample rate")
    parser.add_argument("--downmix", choices=DOWNMIX_MODES, default=defaults.downmix,
                        help="multi-channel to mono: channel mean, left (first), right (second), none (keep)")
    parser.add_argument("--normalize", choices=("none", "rms", "lufs"), default=defaults.normalize,
                        help="level normalisation: rms (dBFS) or lufs (ITU-R BS.1770 loudness)")
    parser.add_argument("--target_level", type=float, default=defaults.target_level,
                        help="target in dBFS (rms) or LUFS (lufs)")
    parser.add_argument("--peak_limit_db", type=float, default=defaults.peak_limit_db,
                        help="normalisation gain is lowered so that peaks stay at or below this (dBFS)")
    parser.add_argument("--trim", type=str2bool, default=defaults.trim, help="trim leading/trailing silence")
    parser.add_argument("--trim_threshold_db", type=float, default=defaults.trim_threshold_db,
                        help="silence threshold relative to the loudest 10 ms frame of the utterance")
    parser.add_argument("--trim_min_silence", type=float, default=defaults.trim_min_silence,
                        help="shorter leading/trailing silences (seconds) are left alone")
    parser.add_argument("--trim_keep", type=float, default=defaults.trim_keep,
                        help="seconds of silence kept next to the sound")
    parser.add_argument("--nj", type=int, default=1, help="parallel processes")
    parser.add_argument("--verbose", type=str2bool, default=False)
    args = parse_args(parser, argv)
    if os.path.abspath(args.in_dir) == os.path.abspath(args.out_dir):
        raise ConfigError(f"--out_dir {args.out_dir} is --in_dir: write the prepared data to a new directory")
    if args.fs <= 0 or args.nj < 1:
        raise ConfigError(f"--fs ({args.fs}) and --nj ({args.nj}) must be positive")
    return args


def _reusable(spec, start, end, result):
    """True when the utterance needs no change and its audio already is a whole PCM_16 wav file."""
    if result.steps or is_pipe(spec) or start > 0 or end is not None:
        return False
    info = sf.info(spec)
    return info.format == "WAV" and info.subtype == "PCM_16"


def _process(job):
    """Prepare one utterance; returns (utt, wav path, num samples, report row)."""
    utt, (spec, start, end), out_path, opts = job
    try:
        samples, fs = read_audio(spec, start, end)
    except DataError as err:
        raise DataError(f"utterance {utt}: {err}") from None
    if samples.shape[0] == 0:
        raise DataError(f"utterance {utt}: no audio samples in {spec!r} from {start} to {end}; "
                        f"fix the segments file or remove the utterance with utils/fix_data_dir.sh")
    out, result = prepare(samples, fs, opts)
    if _reusable(spec, start, end, result):
        out_path = spec
    else:
        write_audio(out_path, out, opts.fs)
    row = {"utt": utt, "orig_fs": fs, "orig_dur": f"{samples.shape[0] / fs:.3f}",
           "new_dur": f"{out.shape[0] / opts.fs:.3f}", "steps": ",".join(result.steps) or "-",
           "level_db": "-" if result.level_db is None else f"{result.level_db:.2f}",
           "gain_db": f"{result.gain_db:.2f}", "trim_start": f"{result.trim_start:.3f}",
           "trim_end": f"{result.trim_end:.3f}", "clip_limited": str(result.clip_limited).lower(),
           "note": result.note or "-"}
    return utt, out_path, out.shape[0], row


def _copy_tables(in_dir, out_dir):
    """Copy the tables that stay valid; return the names left out because they describe the old audio."""
    left_out = []
    for name in sorted(os.listdir(in_dir)):
        path = os.path.join(in_dir, name)
        if not os.path.isfile(path) or name.startswith(".") or name in REWRITTEN:
            continue
        if name in NOT_CARRIED or name in speaker_scps(in_dir):
            left_out.append(name)
        else:
            shutil.copyfile(path, os.path.join(out_dir, name))
    return left_out


def _summary(rows, left_out, out_dir):
    """Log what was done to how many utterances."""
    count = len(rows)
    before = sum(float(r["orig_dur"]) for r in rows)
    after = sum(float(r["new_dur"]) for r in rows)
    for step in ("downmix", "resample", "trim", "gain"):
        logging.info("%s: %d of %d utterances", step, sum(step in r["steps"].split(",") for r in rows), count)
    limited = [r["utt"] for r in rows if r["clip_limited"] == "true"]
    if limited:
        logging.warning("gain lowered to avoid clipping for %d utterances (e.g. %s); see %s",
                        len(limited), ", ".join(limited[:5]), os.path.join(out_dir, REPORT))
    noted = [r["utt"] for r in rows if r["note"] != "-"]
    if noted:
        logging.warning("%d utterances have notes (e.g. %s) in %s", len(noted), ", ".join(noted[:5]),
                        os.path.join(out_dir, REPORT))
    if left_out:
        logging.warning("not carried to %s (they describe the old audio; recompute them): %s",
                        out_dir, " ".join(left_out))
    logging.info("prepared %d utterances: %.1f s -> %.1f s of audio; report %s", count, before, after,
                 os.path.join(out_dir, REPORT))


@cli_main
def main(argv=None):
    args = get_args(argv)
    setup_logging(args.verbose)
    data = DataDir(args.in_dir)
    opts = PrepareOptions(**{f.name: getattr(args, f.name) for f in dataclasses.fields(PrepareOptions)
                             if hasattr(args, f.name)})
    for utt in data.utts:
        if "/" in utt:
            raise DataError(f"{args.in_dir}/utt2spk: utterance id {utt!r} holds '/'; it cannot name a wav file")
    os.makedirs(args.audio_dir, exist_ok=True)
    os.makedirs(args.out_dir, exist_ok=True)
    jobs = [(utt, data.audio_spec(utt), os.path.join(args.audio_dir, f"{utt}.wav"), opts) for utt in data.utts]
    if args.nj == 1:
        results = list(map(_process, jobs))
    else:
        with multiprocessing.Pool(args.nj, initializer=torch.set_num_threads, initargs=(1,)) as pool:
            results = list(pool.imap(_process, jobs, chunksize=max(1, len(jobs) // (8 * args.nj))))
    left_out = _copy_tables(args.in_dir, args.out_dir)
    write_data_dir(args.out_dir, {utt: path for utt, path, _, _ in results}, data.table("utt2spk"),
                   extra={"utt2num_samples": {utt: num for utt, _, num, _ in results}})
    rows = [row for _, _, _, row in results]
    with open(os.path.join(args.out_dir, REPORT), "w", encoding="utf-8") as f:
        f.write("\t".join(COLUMNS) + "\n")
        f.writelines("\t".join(str(row[c]) for c in COLUMNS) + "\n" for row in rows)
    _summary(rows, left_out, args.out_dir)


if __name__ == "__main__":
    main()
