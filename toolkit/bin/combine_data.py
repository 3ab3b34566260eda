"""Combine data dirs into one (Kaldi's utils/combine_data.sh).

    utils/combine_data.sh DEST SRC1 SRC2 ...

The union of every file. A key present in several sources with different values
is an error naming it; a file only some sources have is dropped with a warning
naming it; sources without segments get whole-recording segments when others
have them. Files that are not data dir files are not copied (a warning names them).
"""
import argparse

from toolkit.data.dir_ops import check_distinct, combine, read_dir, warn_other, write_dir
from toolkit.utils.errors import cli_main
from toolkit.utils.logging_setup import setup_logging


@cli_main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dest")
    parser.add_argument("srcs", nargs="+", metavar="src")
    args = parser.parse_args(argv)
    setup_logging()
    sources = []
    for src in args.srcs:
        check_distinct(src, args.dest)
        sources.append((src, read_dir(src)))
        warn_other(sources[-1][1], src, f"copied to {args.dest}")
    combined = combine(sources)
    write_dir(combined, args.dest)
    print(f"combine_data: {args.dest}: {len(combined.utts)} utterances from {len(sources)} dirs")


if __name__ == "__main__":
    main()
