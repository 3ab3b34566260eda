"""Per-token durations (feature frames) of a dumped set from a CTC aligner experiment.

    python -m toolkit.bin.compute_durations --model_dir exp/aligner --feats_scp dump/x/feats.scp \\
        --token_int dump/x/token_int --out dump/x/durations [--checkpoint valid.loss.best.pth]
        [--method viterbi|ctc] [--batch_size 8] [--device cpu]

The aligner is a CTC-only ASR experiment (--task asr, decoder none, ctc_weight 1.0)
trained on these features without time subsampling. Every utterance of feats.scp gets
a line `utt d1 d2 ...` (keys sorted, C order) whose durations are >= 1 and sum to its
frame count; an utterance missing from token_int, or with fewer frames than tokens, is
an error naming it. --method: see toolkit.align.ctc_durations.
"""
import logging
import os

import kaldiio
import numpy as np
import torch

from toolkit.align.ctc_durations import METHODS, CTCAligner, align_tables
from toolkit.data.tables import read_int_table, write_table
from toolkit.utils.config import get_parser, parse_args
from toolkit.utils.errors import DataError, cli_main
from toolkit.utils.logging_setup import setup_logging


def build_parser():
    parser = get_parser(__doc__.split("\n")[0])
    parser.add_argument("--model_dir", required=True, help="aligner experiment dir (config.yaml, checkpoints)")
    parser.add_argument("--checkpoint", default="valid.loss.best.pth", help="model file inside --model_dir")
    parser.add_argument("--feats_scp", required=True, help="features the aligner reads (and the TTS model predicts)")
    parser.add_argument("--token_int", required=True, help="token ids per utterance (toolkit.bin.tokenize_text)")
    parser.add_argument("--out", required=True, help="durations file to write")
    parser.add_argument("--method", choices=METHODS, default="viterbi")
    parser.add_argument("--batch_size", type=int, default=8, help="utterances per encoder batch")
    parser.add_argument("--num_threads", type=int, default=1, help="torch threads")
    parser.add_argument("--device", default="cpu")
    return parser


def write_durations(path, durations, num_frames):
    """Write `utt d1 d2 ...` lines after checking each sums to its frame count."""
    for utt, dur in durations.items():
        if int(dur.sum()) != num_frames[utt] or dur.min() < 1:
            raise RuntimeError(f"durations of {utt!r} sum to {int(dur.sum())} (min {dur.min()}), "
                               f"not to its {num_frames[utt]} frames")
    write_table(path, {utt: " ".join(map(str, dur.tolist())) for utt, dur in durations.items()})


@cli_main
def main(argv=None):
    args = parse_args(build_parser(), argv)
    setup_logging()
    torch.set_num_threads(args.num_threads)
    if not os.path.isfile(args.feats_scp):
        raise DataError(f"{args.feats_scp}: no such file")
    feats = kaldiio.load_scp(args.feats_scp)
    aligner = CTCAligner(args.model_dir, args.checkpoint, args.method, args.device)
    durations, num_frames = align_tables(aligner, feats, read_int_table(args.token_int, "token ids"), args.batch_size)
    write_durations(args.out, durations, num_frames)
    all_durations = np.concatenate(list(durations.values()))
    logging.info("wrote %s: %d utterances, %d tokens; duration mean %.2f, max %d frames (%s, %s)", args.out,
                 len(durations), len(all_durations), all_durations.mean(), all_durations.max(), args.method,
                 os.path.join(args.model_dir, args.checkpoint))


if __name__ == "__main__":
    main()
