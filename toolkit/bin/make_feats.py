"""Extract fbank / MFCC / log-mel features of a data dir into a Kaldi ark/scp dump dir.

    python -m toolkit.bin.make_feats --data_dir data/train --out_dir dump/fbank/train \
        --feat_type fbank [--feat_conf conf/fbank.yaml] [--nj 4] [--compress true]

The utterances are split into --nj contiguous parts (out_dir/splitN/utts.JOB) and
extracted by parallel jobs run through toolkit.bin.run_jobs (utils/run.sh), one
log each (out_dir/log/make_feats.JOB.log). Job JOB writes out_dir/data/feats.JOB.ark
and .scp; the driver then merges them into out_dir/feats.scp and utt2num_frames and
copies the data dir's other tables (wav.scp, text, utt2spk, segments, ...), so
out_dir is a data dir itself. out_dir/feat_conf.yaml holds the resolved feature config.
feats.scp names the arks by --out_dir as given: a relative path is relative to the
working directory (the recipe dir), as in Kaldi.

--feat_conf is a yaml mapping of torchaudio.compliance.kaldi options (fbank, mfcc:
num_mel_bins, frame_length, frame_shift, dither (default 0), ...) or LogMel options
(logmel: sample_rate, n_fft, hop_length, win_length, n_mels, fmin, fmax, ...), plus
`channel`. Kaldi features see the samples scaled to the int16 range, as in Kaldi.
--compress true stores 8-bit compressed matrices (Kaldi's CompressedMatrix, method
--compression_method, default 1 = Kaldi's automatic choice: per-column percentile
coding, kSpeechFeature, for more than 8 frames); reading them back gives values
within about 1/126 of each feature dimension's range.
A failing utterance (unreadable, too short for one frame, wrong rate) stops the run
with an error naming it.
"""
import glob
import logging
import os
import shlex
import shutil
import subprocess
import sys

import torch

from toolkit.data.datadir import DataDir
from toolkit.data.tables import read_table, write_table
from toolkit.features.dump import dump_features
from toolkit.features.extractor import FEAT_TYPES, build_extractor
from toolkit.utils.config import get_parser, load_config, parse_args, save_config, str2bool
from toolkit.utils.errors import ConfigError, DataError, ToolkitError, cli_main
from toolkit.utils.logging_setup import setup_logging

# Files the dump dir gets from us, not from the source data dir (cmvn.scp would be stale).
OWN_FILES = ("feats.scp", "utt2num_frames", "feat_conf.yaml", "cmvn.scp")


def get_args(argv):
    parser = get_parser(description=__doc__.split("\n")[0])
    parser.add_argument("--data_dir", help="source Kaldi data dir")
    parser.add_argument("--out_dir", help="dump dir to create (a data dir with feats.scp)")
    parser.add_argument("--feat_type", choices=FEAT_TYPES, help="default: feat_type in --feat_conf")
    parser.add_argument("--feat_conf", help="yaml of feature options")
    parser.add_argument("--nj", type=int, default=1, help="parallel jobs")
    parser.add_argument("--compress", type=str2bool, default=False, help="store compressed matrices")
    parser.add_argument("--compression_method", type=int, default=1, help="kaldiio/Kaldi CompressionMethod")
    parser.add_argument("--write_utt2num_frames", type=str2bool, default=True)
    parser.add_argument("--num_threads", type=int, default=1, help="torch threads per job")
    parser.add_argument("--job", type=int, help="internal: run job JOB of --nj on out_dir/splitNJ/utts.JOB")
    parser.add_argument("--verbose", action="store_true")
    args = parse_args(parser, argv)
    for name in ("data_dir", "out_dir"):
        if not getattr(args, name):
            parser.error(f"--{name} is required")
    if "," in args.out_dir:
        parser.error(f"--out_dir {args.out_dir!r}: a comma cannot be in a Kaldi ark,scp path")
    if args.nj < 1:
        parser.error("--nj must be at least 1")
    return args


def resolve_conf(args):
    """The feature config mapping: --feat_conf's options with feat_type set from --feat_type."""
    conf = load_config(args.feat_conf) if args.feat_conf else {}
    source = args.feat_conf or "--feat_type"
    if args.feat_type and conf.setdefault("feat_type", args.feat_type) != args.feat_type:
        raise ConfigError(f"{source}: feat_type {conf['feat_type']!r} contradicts --feat_type {args.feat_type}")
    return build_extractor(conf, source)


def run_job(args):
    """Extract the utterances of one split into out_dir/data/feats.JOB.{ark,scp}."""
    torch.set_num_threads(args.num_threads)
    extractor = resolve_conf(args)
    split_list = os.path.join(args.out_dir, f"split{args.nj}", f"utts.{args.job}")
    with open(split_list, encoding="utf-8") as f:
        utts = f.read().split()
    out = os.path.join(args.out_dir, "data")
    num_frames = dump_features(DataDir(args.data_dir), utts, extractor, f"{out}/feats.{args.job}.ark",
                               f"{out}/feats.{args.job}.scp", args.compression_method if args.compress else None)
    write_table(f"{out}/utt2num_frames.{args.job}", num_frames)


def write_splits(out_dir, utts, nj):
    """Write nj contiguous, near-equal parts of the sorted utterance list."""
    split_dir = os.path.join(out_dir, f"split{nj}")
    os.makedirs(split_dir, exist_ok=True)
    for job in range(nj):
        part = utts[job * len(utts) // nj:(job + 1) * len(utts) // nj]
        with open(os.path.join(split_dir, f"utts.{job + 1}"), "w", encoding="utf-8") as f:
            f.write("".join(f"{utt}\n" for utt in part))


def run_parallel(args, nj, conf_path):
    """Run the jobs through the run.pl-style runner; a failure raises with the jobs' errors."""
    job = [sys.executable, "-m", "toolkit.bin.make_feats", "--job", "JOB", "--nj", str(nj),
           "--data_dir", args.data_dir, "--out_dir", args.out_dir, "--feat_conf", conf_path,
           "--compress", str(args.compress), "--compression_method", str(args.compression_method),
           "--num_threads", str(args.num_threads)]
    log = os.path.join(args.out_dir, "log", "make_feats.JOB.log")
    runner = [sys.executable, "-m", "toolkit.bin.run_jobs", "--max_jobs", str(nj), f"JOB=1:{nj}", log,
              shlex.join(job)]
    if subprocess.run(runner).returncode != 0:
        errors = []
        for path in sorted(glob.glob(log.replace("JOB", "*"))):
            with open(path, encoding="utf-8", errors="replace") as f:
                errors += [line[len("ERROR:"):].strip() for line in f if line.startswith("ERROR:")]
        raise ToolkitError(f"feature extraction failed: {'; '.join(errors) or 'a job crashed'}; "
                           f"logs: {log.replace('JOB', '*')}")


def merge_outputs(args, utts, nj):
    """Merge the jobs' scp and utt2num_frames tables; every utterance must have features."""
    feats, frames = {}, {}
    for job in range(1, nj + 1):
        feats.update(read_table(os.path.join(args.out_dir, "data", f"feats.{job}.scp")))
        frames.update(read_table(os.path.join(args.out_dir, "data", f"utt2num_frames.{job}")))
    missing = [utt for utt in utts if utt not in feats]
    if missing:
        raise DataError(f"{len(missing)} utterances have no features (first: {missing[0]!r}); "
                        f"see {args.out_dir}/log/make_feats.*.log")
    write_table(os.path.join(args.out_dir, "feats.scp"), feats)
    if args.write_utt2num_frames:
        write_table(os.path.join(args.out_dir, "utt2num_frames"), frames)
    return sum(int(n) for n in frames.values())


def copy_tables(data_dir, out_dir):
    """Copy the data dir's files (not ours, not subdirectories) into out_dir; return their names."""
    if os.path.samefile(data_dir, out_dir):
        return []
    names = [n for n in sorted(os.listdir(data_dir))
             if os.path.isfile(os.path.join(data_dir, n)) and n not in OWN_FILES]
    for name in names:
        shutil.copyfile(os.path.join(data_dir, name), os.path.join(out_dir, name))
    return names


@cli_main
def main(argv=None):
    args = get_args(argv)
    setup_logging(args.verbose)
    if args.job is not None:
        return run_job(args)
    data = DataDir(args.data_dir)
    utts = data.utts
    if not utts:
        raise DataError(f"{args.data_dir}/utt2spk: no utterances")
    extractor = resolve_conf(args)
    nj = min(args.nj, len(utts))
    if nj < args.nj:
        logging.info("--nj %d reduced to %d: there are only %d utterances", args.nj, nj, len(utts))
    os.makedirs(os.path.join(args.out_dir, "data"), exist_ok=True)
    for name in OWN_FILES:  # a failed run must not leave a previous run's outputs looking valid
        if os.path.exists(os.path.join(args.out_dir, name)):
            os.remove(os.path.join(args.out_dir, name))
    conf_path = os.path.join(args.out_dir, "feat_conf.yaml")
    save_config(extractor.conf, conf_path)
    write_splits(args.out_dir, utts, nj)
    logging.info("extracting %s features of %d utterances in %d jobs; logs: %s/log/make_feats.*.log",
                 extractor.feat_type, len(utts), nj, args.out_dir)
    run_parallel(args, nj, conf_path)
    frames = merge_outputs(args, utts, nj)
    copied = copy_tables(args.data_dir, args.out_dir)
    logging.info("wrote %s/feats.scp: %d utterances, %d frames; copied %s", args.out_dir, len(utts), frames,
                 " ".join(copied) or "no tables (out_dir is data_dir)")


if __name__ == "__main__":
    main()
