"""Average the model parameters of several checkpoints into one state dict file.

    python -m toolkit.bin.average_checkpoints --out model.ave.pth --checkpoints a.pth b.pth
    python -m toolkit.bin.average_checkpoints --exp_dir exp/x --criterion 'valid acc max' --nbest 5

With --exp_dir the n best epoch snapshots by the criterion are read from
exp_dir/selection.json (written during training); the output defaults to
exp_dir/{phase}.{metric}.ave_{N}best.pth and exp_dir/{phase}.{metric}.ave.pth is
linked to it. Floats are averaged; integer buffers get the floor of their mean
(see toolkit/train/average.py).
"""
import argparse
import logging
import os

from toolkit.train.average import average_checkpoints
from toolkit.train.checkpoint import link_checkpoint, save_checkpoint
from toolkit.train.model_selection import nbest_snapshots, parse_criterion
from toolkit.utils.errors import cli_main
from toolkit.utils.logging_setup import setup_logging


@cli_main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoints", nargs="+", metavar="PTH", help="checkpoint files to average")
    source.add_argument("--exp_dir", help="experiment dir whose n best epoch snapshots to average")
    parser.add_argument("--criterion", default="valid loss min", metavar="'PHASE METRIC min|max'",
                        help="ranking of the snapshots (with --exp_dir; default: %(default)s)")
    parser.add_argument("--nbest", type=int, default=10, help="how many snapshots (with --exp_dir; default: %(default)s)")
    parser.add_argument("--out", help="output file (required with --checkpoints)")
    args = parser.parse_args(argv)
    setup_logging()
    if args.checkpoints:
        if not args.out:
            parser.error("--out is required with --checkpoints")
        paths, out = args.checkpoints, args.out
    else:
        if args.nbest < 1:
            parser.error(f"--nbest must be at least 1, got {args.nbest}")
        key = parse_criterion(args.criterion).key
        paths = nbest_snapshots(args.exp_dir, args.criterion, args.nbest)
        out = args.out or os.path.join(args.exp_dir, f"{key}.ave_{args.nbest}best.pth")
    logging.info("averaging %d checkpoint(s): %s", len(paths), " ".join(paths))
    save_checkpoint(out, average_checkpoints(paths))
    if args.exp_dir:
        link = os.path.join(args.exp_dir, f"{key}.ave.pth")
        if os.path.abspath(link) != os.path.abspath(out):
            link_checkpoint(out, link)
    print(f"average_checkpoints: averaged {len(paths)} checkpoint(s) -> {out}")


if __name__ == "__main__":
    main()
