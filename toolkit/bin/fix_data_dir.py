"""Make a Kaldi data dir consistent in place (Kaldi's utils/fix_data_dir.sh).

    utils/fix_data_dir.sh DIR

Keeps the utterances present, non-empty, in every utterance file, whose recording
(with segments) and speaker are in every recording and speaker file; drops unused
recordings and speakers and duplicate keys; sorts all files and rebuilds spk2utt.
Originals are backed up in DIR/.backup/ and each removed key is listed with its
reason in DIR/.backup/removed.txt. See toolkit/data/fix_dir.py.
"""
import argparse
import os

from toolkit.data.fix_dir import BACKUP, fix_dir
from toolkit.utils.errors import cli_main
from toolkit.utils.logging_setup import setup_logging

SHOWN = 10


@cli_main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir")
    args = parser.parse_args(argv)
    setup_logging()
    report = fix_dir(args.data_dir)
    counts = ", ".join(f"{after} of {before} {what}" for what, (before, after) in report.counts.items())
    if not report.changed:
        print(f"fix_data_dir: {args.data_dir}: already consistent ({counts}); nothing changed")
        return
    print(f"fix_data_dir: {args.data_dir}: kept {counts}")
    removed = report.removed
    listing = os.path.join(args.data_dir, BACKUP, "removed.txt")
    print(f"fix_data_dir: removed {len(removed)} entries (all in {listing}; originals in "
          f"{os.path.join(args.data_dir, BACKUP)}/)" + ("" if removed else "; files were re-sorted"))
    for line in removed[:SHOWN]:
        print(f"  {line}")
    if len(removed) > SHOWN:
        print(f"  ... {len(removed) - SHOWN} more")


if __name__ == "__main__":
    main()
