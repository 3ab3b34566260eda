"""Write a subset of a data dir with every file kept consistent (Kaldi's utils/subset_data_dir.sh).

    utils/subset_data_dir.sh [--seed S] SRC N DEST   N utterances drawn at random (seeded)
    utils/subset_data_dir.sh --first N SRC DEST      the first N utterances (sorted order)
    utils/subset_data_dir.sh --last N SRC DEST       the last N utterances
    utils/subset_data_dir.sh --per_spk N SRC DEST    up to N utterances per speaker, evenly spaced
    utils/subset_data_dir.sh --utt_list FILE SRC DEST    utterances in FILE's first column
    utils/subset_data_dir.sh --spk_list FILE SRC DEST    all utterances of the speakers in FILE

Kaldi's spelling `--first SRC N DEST` (also --last, --per-spk) works too. Recording
files (wav.scp, reco2*) keep only the recordings the subset's segments use; speaker
files only its speakers. List entries missing from SRC are reported. Kaldi's default
N-mode picks evenly spaced utterances; here it is random with --seed (default 0).
"""
import argparse

from toolkit.data import dir_subsets
from toolkit.data.dir_ops import check_distinct, read_dir, select, warn_other, write_dir
from toolkit.utils.errors import ConfigError, cli_main
from toolkit.utils.logging_setup import setup_logging

COUNT_MODES = ("first", "last", "per_spk")
LIST_MODES = ("utt_list", "spk_list")


def _resolve(args):
    """(mode, N or None, src, dest), accepting Kaldi's `--first SRC N DEST` too."""
    positional = list(args.positional)
    mode = next((m for m in COUNT_MODES + LIST_MODES if getattr(args, m) is not None), None)
    count = getattr(args, mode) if mode in COUNT_MODES else ""
    if count and not count.isdigit():  # Kaldi form: the flag took SRC, N is positional
        positional.insert(0, count)
        count = ""
    if not count and mode not in LIST_MODES and len(positional) == 3 and positional[1].isdigit():
        count = positional.pop(1)
    if len(positional) != 2 or (not count and mode not in LIST_MODES):
        raise ConfigError("usage: subset_data_dir.sh [--first|--last|--per_spk N | --utt_list F | --spk_list F] "
                          "SRC [N] DEST (see --help)")
    return mode, int(count) if count else None, positional[0], positional[1]


@cli_main
def main(argv=None):
    parser = argparse.ArgumentParser(usage="%(prog)s [options] SRC [N] DEST", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    modes = parser.add_mutually_exclusive_group()
    for name in COUNT_MODES:
        modes.add_argument(f"--{name}", f"--{name.replace('_', '-')}", nargs="?", const="", metavar="N")
    for name in LIST_MODES:
        modes.add_argument(f"--{name}", f"--{name.replace('_', '-')}", metavar="FILE")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the N-random mode")
    parser.add_argument("positional", nargs="+", metavar="SRC [N] DEST")
    args = parser.parse_args(argv)
    setup_logging()
    mode, count, src, dest = _resolve(args)
    check_distinct(src, dest)
    tables = read_dir(src)
    warn_other(tables, src, f"copied to {dest}")
    if mode == "utt_list":
        utts = dir_subsets.listed(args.utt_list, set(tables.utts), "utterances")
    elif mode == "spk_list":
        speakers = dir_subsets.listed(args.spk_list, set(tables.files["utt2spk"].values()), "speakers")
        utts = dir_subsets.speakers_utts(tables, speakers)
    elif mode == "first":
        utts = dir_subsets.first_utts(tables, count)
    elif mode == "last":
        utts = dir_subsets.last_utts(tables, count)
    elif mode == "per_spk":
        utts = dir_subsets.per_speaker_utts(tables, count)
    else:
        utts = dir_subsets.random_utts(tables, count, args.seed)
    subset = select(tables, utts)
    write_dir(subset, dest)
    print(f"subset_data_dir: {dest}: {len(subset.utts)} of {len(tables.utts)} utterances "
          f"({mode or 'random'}), {len(set(subset.files['utt2spk'].values()))} speakers")


if __name__ == "__main__":
    main()
