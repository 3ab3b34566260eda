"""Accumulate CMVN statistics of a feats.scp in Kaldi's 2 x (D + 1) float64 layout.

    python -m toolkit.bin.compute_cmvn_stats --feats_scp dump/fbank/train/feats.scp \
        --out dump/fbank/train/cmvn.ark [--spk2utt dump/fbank/train/spk2utt]

Global stats (default) are one matrix written like Kaldi's `compute-cmvn-stats
scp:feats.scp cmvn.ark`: kaldiio.load_mat(out) reads it. With --spk2utt the stats are
per speaker, written as an ark keyed by speaker with an scp beside it (out with
.scp in place of .ark). Row 0: per-dimension sums, then the frame count; row 1:
sums of squares, then 0.
"""
import logging
import os

import kaldiio

from toolkit.data.tables import read_table
from toolkit.features.cmvn import accumulate_cmvn
from toolkit.utils.config import get_parser, parse_args
from toolkit.utils.errors import DataError, cli_main
from toolkit.utils.logging_setup import setup_logging


def global_stats(feats_scp):
    stats = accumulate_cmvn(kaldiio.load_scp_sequential(feats_scp))
    if stats is None:
        raise DataError(f"{feats_scp}: no features")
    return stats


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
    parser.add_argument("--out", help="output: a matrix file (global) or an ark (--spk2utt)")
    parser.add_argument("--spk2utt", help="accumulate per speaker of this spk2utt")
    parser.add_argument("--verbose", action="store_true")
    args = parse_args(parser, argv)
    for name in ("feats_scp", "out"):
        if not getattr(args, name):
            parser.error(f"--{name} is required")
    setup_logging(args.verbose)
    if not os.path.isfile(args.feats_scp):
        raise DataError(f"{args.feats_scp}: no such file")
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    if args.spk2utt:
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
