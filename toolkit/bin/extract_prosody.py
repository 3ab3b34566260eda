"""Per-token pitch and energy targets of a set, normalised by training-set stats.

    python -m toolkit.bin.extract_prosody --wav_scp data/x/wav.scp --durations dump/x/durations \\
        --feat_conf conf/mel.yaml --out_dir dump/x [--stats_file dump/train/prosody_stats.json]
        [--f0_method dio|harvest] [--f0min 60] [--f0max 500] [--nj 1]

For every utterance of --durations (wav.scp, or a `segments` file beside it, must hold
it) writes OUT_DIR/pitch and OUT_DIR/energy: `utt v1 v2 ...`, one float per token
(toolkit.data.dataset kind 'floats'). Values are the per-token log-F0 and log-energy
of toolkit.features.prosody, normalised by the mean/std of --stats_file; without
--stats_file the stats come from this set (run it on the training set first) and are
written to OUT_DIR/prosody_stats.json. --feat_conf is the log-mel config make_feats
used (or the feat_conf.yaml it wrote into the dump dir): the frames must be the same.
"""
import functools
import json
import logging
import os
from concurrent.futures import ProcessPoolExecutor

import torch

from toolkit.data.audio_io import read_audio
from toolkit.data.datadir import read_segments
from toolkit.data.tables import read_int_table, read_table, write_table
from toolkit.features.pitch import F0_METHODS
from toolkit.features.prosody import ProsodyExtractor
from toolkit.features.token_average import compute_stats, normalize
from toolkit.utils.config import get_parser, load_config, parse_args, str_or_none
from toolkit.utils.errors import ConfigError, DataError, cli_main
from toolkit.utils.logging_setup import setup_logging

STATS_NAME = "prosody_stats.json"


def build_parser():
    parser = get_parser(__doc__.split("\n")[0])
    parser.add_argument("--wav_scp", required=True, help="wav.scp of the data dir (segments beside it are used)")
    parser.add_argument("--durations", required=True, help="`utt d1 d2 ...` mel frames per token")
    parser.add_argument("--feat_conf", required=True, help="log-mel feature config yaml of make_feats")
    parser.add_argument("--out_dir", required=True)
    parser.add_argument("--stats_file", type=str_or_none, default=None,
                        help="training-set stats to normalise with; none: compute from this set")
    parser.add_argument("--f0_method", choices=F0_METHODS, default="dio")
    parser.add_argument("--f0min", type=float, default=60.0, help="lowest F0 searched (Hz)")
    parser.add_argument("--f0max", type=float, default=500.0, help="highest F0 searched (Hz)")
    parser.add_argument("--nj", type=int, default=1, help="parallel processes")
    return parser


def audio_specs(wav_scp, utts):
    """{utt: (wav.scp value, start, end)}, through a `segments` file beside wav_scp if there is one."""
    wavs = read_table(wav_scp)
    segments_path = os.path.join(os.path.dirname(wav_scp), "segments")
    segments = read_segments(segments_path) if os.path.isfile(segments_path) else None
    source, listed = (segments_path, segments) if segments is not None else (wav_scp, wavs)
    missing = [u for u in utts if u not in listed]
    if missing:
        raise DataError(f"{source}: {len(missing)} utterance(s) of the durations missing, e.g. {missing[:3]}")
    left_out = len(set(listed) - set(utts))
    if left_out:
        logging.warning("%d utterance(s) of %s have no durations: they get no pitch/energy", left_out, source)
    if segments is None:
        return {u: (wavs[u], 0.0, None) for u in utts}
    specs = {}
    for utt in utts:
        reco, start, end = segments[utt]
        if reco not in wavs:
            raise DataError(f"{wav_scp}: recording {reco!r} of utterance {utt!r} (segments) missing")
        specs[utt] = (wavs[reco], start, end)
    return specs


def extract_one(extractor, item):
    """(utt, pitch, energy) for (utt, (spec, start, end), durations); errors name the utterance."""
    utt, (spec, start, end), durations = item
    try:
        samples, rate = read_audio(spec, start, end)
        return utt, *extractor(samples, rate, durations)
    except DataError as err:
        raise DataError(f"utterance {utt!r}: {err}") from None


def _init_worker():
    torch.set_num_threads(1)


def extract_all(extractor, specs, durations, nj):
    """{utt: (pitch, energy)} over nj processes (in this one for nj 1)."""
    items = [(utt, specs[utt], durations[utt]) for utt in sorted(durations)]
    work = functools.partial(extract_one, extractor)
    if nj <= 1:
        return {utt: (pitch, energy) for utt, pitch, energy in map(work, items)}
    with ProcessPoolExecutor(nj, initializer=_init_worker) as pool:
        chunk = max(1, len(items) // (4 * nj))
        return {utt: (pitch, energy) for utt, pitch, energy in pool.map(work, items, chunksize=chunk)}


def load_stats(path, f0_conf):
    """Stats JSON, checked to come from the same F0 settings."""
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such stats file; run extract_prosody on the training set without --stats_file")
    with open(path, encoding="utf-8") as f:
        stats = json.load(f)
    if stats.get("f0_conf") != f0_conf:
        raise ConfigError(f"{path}: computed with {stats.get('f0_conf')}, but this run uses {f0_conf}; "
                          f"use the same --f0_method/--f0min/--f0max as for the training set")
    return stats


@cli_main
def main(argv=None):
    parser = build_parser()
    args = parse_args(parser, argv)
    if args.nj < 1:
        parser.error("--nj must be at least 1")
    setup_logging()
    extractor = ProsodyExtractor(load_config(args.feat_conf), args.feat_conf, args.f0_method, args.f0min, args.f0max)
    durations = read_int_table(args.durations, "durations", allow_empty=False)
    if not durations:
        raise DataError(f"{args.durations}: no utterances")
    specs = audio_specs(args.wav_scp, sorted(durations))
    stats = load_stats(args.stats_file, extractor.f0_conf) if args.stats_file else None
    logging.info("extracting pitch (%s) and energy of %d utterances in %d process(es)", args.f0_method,
                 len(durations), args.nj)
    values = extract_all(extractor, specs, durations, args.nj)
    os.makedirs(args.out_dir, exist_ok=True)
    if stats is None:
        stats = {"pitch": compute_stats((p for p, _ in values.values()), "per-token log-F0 values"),
                 "energy": compute_stats((e for _, e in values.values()), "per-token log-energy values"),
                 "f0_conf": extractor.f0_conf}
        stats_path = os.path.join(args.out_dir, STATS_NAME)
        with open(stats_path, "w", encoding="utf-8") as f:
            json.dump(stats, f, indent=2)
        logging.info("wrote %s: log-F0 mean %.3f std %.3f, log-energy mean %.3f std %.3f", stats_path,
                     stats["pitch"]["mean"], stats["pitch"]["std"], stats["energy"]["mean"], stats["energy"]["std"])
    for index, name in enumerate(("pitch", "energy")):
        table = {utt: " ".join(f"{v:.4f}" for v in normalize(pair[index], stats[name]))
                 for utt, pair in values.items()}
        write_table(os.path.join(args.out_dir, name), table)
    logging.info("wrote %s/pitch and %s/energy: %d utterances", args.out_dir, args.out_dir, len(values))


if __name__ == "__main__":
    main()
