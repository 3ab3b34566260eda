"""Copy a data dir, optionally renaming utterances and speakers (Kaldi's utils/copy_data_dir.sh).

    utils/copy_data_dir.sh [--utt_prefix P] [--utt_suffix S] [--spk_prefix P] [--spk_suffix S] SRC DEST

Utterance ids become P+utt+S, speaker ids P+spk+S. Recording ids (wav.scp keys,
recording field of segments) take the utterance prefix and suffix, as in Kaldi.
Files that are not data dir files are not copied (a warning names them).
"""
import argparse
import sys

from toolkit.data.dir_ops import check_distinct, read_dir, rename, warn_other, write_dir
from toolkit.utils.errors import cli_main
from toolkit.utils.logging_setup import setup_logging


OPTIONS = ("utt_prefix", "utt_suffix", "spk_prefix", "spk_suffix")


def _attach_values(argv):
    """['--utt_suffix', '-x'] -> ['--utt_suffix=-x'], so a value may start with a dash (Kaldi allows it)."""
    names = {f"--{n}" for n in OPTIONS} | {f"--{n.replace('_', '-')}" for n in OPTIONS}
    out, args = [], iter(argv)
    for arg in args:
        out.append(f"{arg}={next(args, '')}" if arg in names else arg)
    return out


@cli_main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in OPTIONS:
        parser.add_argument(f"--{name}", f"--{name.replace('_', '-')}", default="", metavar="STR")
    parser.add_argument("src")
    parser.add_argument("dest")
    args = parser.parse_args(_attach_values(sys.argv[1:] if argv is None else argv))
    setup_logging()
    check_distinct(args.src, args.dest)
    tables = read_dir(args.src)
    warn_other(tables, args.src, "copied")
    renamed = rename(tables, utt=lambda u: f"{args.utt_prefix}{u}{args.utt_suffix}",
                     spk=lambda s: f"{args.spk_prefix}{s}{args.spk_suffix}")
    write_dir(renamed, args.dest)
    print(f"copy_data_dir: {args.src} -> {args.dest}: {len(renamed.utts)} utterances")


if __name__ == "__main__":
    main()
