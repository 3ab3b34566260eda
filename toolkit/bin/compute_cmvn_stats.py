"""Accumulate CMVN statistics of a feats.scp, or of features computed from audio, in Kaldi's 2 x (D + 1) layout.

    python -m toolkit.bin.compute_cmvn_stats --feats_scp dump/fbank/train/feats.scp \
        --out dump/fbank/train/cmvn.ark [--spk2utt dump/fbank/train/spk2utt]

    python -m toolkit.bin.compute_cmvn_stats --wav_scp dump/raw/train/wav.scp [--segments dump/raw/train/segments] \
        --feat_conf conf/fbank.yaml [--feat_type fbank] --out dump/raw/train/cmvn.ark \
        [--out_feat_conf dump/raw/train/feat_conf.yaml] [--nj 4]

Global stats (default) are one matrix written like Kaldi's `compute-cmvn-stats
scp:feats.scp cmvn.ark`: kaldiio.load_mat(out) reads it. With --spk2utt the stats are
per speaker, written as an ark keyed by speaker with an scp beside it (out with
.scp in place of .ark). Row 0: per-dimension sums, then the frame count; row 1:
sums of squares, then 0.

With --wav_scp the features are computed from the audio (utterances of --segments if
given) through --feat_conf / --feat_type exactly as make_feats computes them, in --nj
processes, without storing them: the stats equal those of the dumped features, and are
what a model computing its features from audio (the ASR task's --frontend_conf) needs.
--out_feat_conf writes the resolved feature config beside them (what --frontend_conf takes).
"""
import logging
import multiprocessing
import os

import kaldiio
import numpy as np
import torch

from toolkit.bin.make_feats import resolve_conf
from toolkit.data.audio_io import read_audio
from toolkit.data.tables import read_table
from toolkit.features.cmvn import accumulate_cmvn
from toolkit.features.extractor import FEAT_TYPES, build_extractor
from toolkit.layers.frontend import audio_items
from toolkit.utils.config import get_parser, parse_args, save_config
from toolkit.utils.errors import DataError, cli_main
from toolkit.utils.logging_setup import setup_logging


def global_stats(feats_scp):
    stats = accumulate_cmvn(kaldiio.load_scp_sequential(feats_scp))
    if stats is None:
        raise DataError(f"{feats_scp}: no features")
    return stats


def _audio_feats(items, extractor):
    """(utt, features) of (utt, wav.scp value, start, end) items; a failing utterance is named."""
    for utt, spec, start, end in items:
        try:
            yield utt, extractor(*read_audio(spec, start, end))
        except DataError as err:
            raise DataError(f"utterance {utt!r}: {err}") from None


def _accumulate_part(job):
    conf, items = job
    return accumulate_cmvn(_audio_feats(items, build_extractor(conf)))


def audio_stats(items, conf, nj=1):
    """Global stats of the features `conf` (a feature config mapping) computes from the audio items, in nj processes."""
    nj = min(nj, len(items))
    parts = [(conf, items[job * len(items) // nj:(job + 1) * len(items) // nj]) for job in range(nj)]
    if nj == 1:
        return _accumulate_part(parts[0])
    with multiprocessing.Pool(nj, initializer=torch.set_num_threads, initargs=(1,)) as pool:
        return np.sum(pool.map(_accumulate_part, parts), axis=0)


def speaker_stats(feats_scp, spk2utt_path):
    """{speaker: stats}; an utterance of spk2utt without features is an error."""
    feats = kaldiio.load_scp(feats_scp)
    spk2utt = {spk: utts.split() for spk, utts in read_table(spk2utt_path).items()}
    listed = {utt for utts in spk2utt.values() for utt in utts}
    missing = sorted(listed - set(feats))
    if missing:
        raise DataError(f"{spk2utt_path}: {len(missing)} utterances have no entry in {feats_scp} "
                        f"(first: {missing[0]!r}); run utils/fix_data_dir.sh on the dump dir")
    unlisted = len(set(feats) - listed)
    if unlisted:
        logging.warning("%d utterances of %s are in no speaker of %s: left out of the stats",
                        unlisted, feats_scp, spk2utt_path)
    return {spk: accumulate_cmvn((utt, feats[utt]) for utt in utts) for spk, utts in spk2utt.items()}


@cli_main
def main(argv=None):
    parser = get_parser(description=__doc__.split("\n")[0])
    parser.add_argument("--feats_scp", help="features to accumulate")
    parser.add_argument("--wav_scp", help="audio to compute the features of (instead of --feats_scp)")
    parser.add_argument("--segments", help="with --wav_scp: the utterances are these segments of its recordings")
    parser.add_argument("--feat_conf", help="with --wav_scp: yaml of feature options (as make_feats takes)")
    parser.add_argument("--feat_type", choices=FEAT_TYPES, help="with --wav_scp: default: feat_type in --feat_conf")
    parser.add_argument("--out_feat_conf", help="with --wav_scp: write the resolved feature config here")
    parser.add_argument("--nj", type=int, default=1, help="with --wav_scp: parallel processes")
    parser.add_argument("--out", help="output: a matrix file (global) or an ark (--spk2utt)")
    parser.add_argument("--spk2utt", help="accumulate per speaker of this spk2utt (with --feats_scp)")
    parser.add_argument("--verbose", action="store_true")
    args = parse_args(parser, argv)
    if bool(args.feats_scp) == bool(args.wav_scp):
        parser.error("give one of --feats_scp (dumped features) and --wav_scp (audio, with --feat_conf/--feat_type)")
    if not args.out:
        parser.error("--out is required")
    if args.wav_scp and args.spk2utt:
        parser.error("--spk2utt needs --feats_scp: per-speaker stats are accumulated over dumped features")
    if args.wav_scp and not (args.feat_conf or args.feat_type):
        parser.error("--wav_scp needs the feature config: --feat_conf and/or --feat_type")
    if args.feats_scp and (args.segments or args.feat_conf or args.feat_type or args.out_feat_conf):
        parser.error("--segments, --feat_conf, --feat_type and --out_feat_conf go with --wav_scp")
    if args.nj < 1:
        parser.error("--nj must be at least 1")
    setup_logging(args.verbose)
    for path in (args.feats_scp, args.wav_scp, args.segments):
        if path and not os.path.isfile(path):
            raise DataError(f"{path}: no such file")
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    if args.wav_scp:
        conf = resolve_conf(args).conf
        items = audio_items(args.wav_scp, args.segments)
        if not items:
            raise DataError(f"{args.segments or args.wav_scp}: no utterances")
        stats = audio_stats(items, conf, args.nj)
        kaldiio.save_mat(args.out, stats)
        if args.out_feat_conf:
            save_config(conf, args.out_feat_conf)
        logging.info("wrote global stats of %d frames of %s features, dim %d, computed from %s to %s",
                     stats[0, -1], conf["feat_type"], stats.shape[1] - 1, args.wav_scp, args.out)
    elif args.spk2utt:
        stats = speaker_stats(args.feats_scp, args.spk2utt)
        scp = os.path.splitext(args.out)[0] + ".scp"
        kaldiio.save_ark(args.out, stats, scp=scp)
        logging.info("wrote stats of %d speakers to %s (%s)", len(stats), args.out, scp)
    else:
        stats = global_stats(args.feats_scp)
        kaldiio.save_mat(args.out, stats)
        logging.info("wrote global stats of %d frames, dim %d to %s", stats[0, -1], stats.shape[1] - 1, args.out)


if __name__ == "__main__":
    main()
