"""Turn a ClearerVoice-Studio list file into a separation data dir (see toolkit/data/sep_lists.py).

    python -m toolkit.bin.import_sep_lists --list tr_wsj0_2mix_8k.scp --out_dir data/tr_8k_min --num_spks 2 \
        [--format one_input_multi_outputs|one_input_one_output] [--root DIR] [--fs 8000]

A line is `MIX S1 S2 ...` (one_input_multi_outputs) or `NOISY CLEAN` (one_input_one_output,
--num_spks 1). Relative paths are resolved against --root (default: the current directory,
where ClearerVoice-Studio's train.py resolves them). Every missing file, duplicate id and
rate or length mismatch is reported as LIST:LINE; nothing is written then.
"""
import argparse

from toolkit.data.sep_lists import FORMATS, import_sep_list
from toolkit.utils.errors import cli_main


def get_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--list", required=True, help="ClearerVoice-Studio list file (.scp)")
    parser.add_argument("--out_dir", required=True, help="data dir to write")
    parser.add_argument("--num_spks", type=int, required=True, help="references per line")
    parser.add_argument("--format", default=FORMATS[0], choices=FORMATS, help="ClearerVoice-Studio load_type")
    parser.add_argument("--root", default=".", help="folder that relative paths in the list start from")
    parser.add_argument("--fs", type=int, default=None, help="require this sample rate for every file")
    return parser


@cli_main
def main(argv=None):
    args = get_parser().parse_args(argv)
    count = import_sep_list(args.list, args.out_dir, args.num_spks, args.format, args.root, args.fs)
    print(f"import_sep_lists: {args.out_dir}: {count} utts from {args.list}")


if __name__ == "__main__":
    main()
