"""Split a data dir into N parts DIR/splitN/1..N (Kaldi's utils/split_data.sh).

    utils/split_data.sh [--per_spk] DIR N

Each part is a data dir of contiguous (sorted) utterances; sizes differ by at most
one. --per_spk keeps each speaker in one part, balancing utterance counts (Kaldi's
default; here per-utterance is the default and --per_utt is accepted for Kaldi
scripts). An existing split is reused when the source files (size and mtime) and
the mode are unchanged.
"""
import argparse
import os

from toolkit.data.dir_subsets import split_dir
from toolkit.data.tables import read_table
from toolkit.utils.errors import cli_main
from toolkit.utils.logging_setup import setup_logging


@cli_main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--per_spk", "--per-spk", action="store_true", help="keep each speaker in one part")
    mode.add_argument("--per_utt", "--per-utt", action="store_true", help="split by utterance (the default)")
    parser.add_argument("data_dir")
    parser.add_argument("num_parts", type=int)
    args = parser.parse_args(argv)
    setup_logging()
    parts, reused = split_dir(args.data_dir, args.num_parts, per_spk=args.per_spk)
    sizes = [len(read_table(os.path.join(p, "utt2spk"))) for p in parts]
    print(f"split_data: {os.path.dirname(parts[0])}: {'reused' if reused else 'wrote'} "
          f"{len(parts)} parts of {', '.join(map(str, sizes))} utterances")


if __name__ == "__main__":
    main()
