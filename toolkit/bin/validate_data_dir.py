"""Check a Kaldi data directory and print every problem found.

    python -m toolkit.bin.validate_data_dir data/train [--fs 16000] [--channels 1] [--nj 4]
        [--no_audio] [--no_sample_check] [--require_text | --no_text] [--max_listed 20]

Prints one line per error and warning ('ERROR: data/train/text:12: utt 'u3': empty
transcript'), then a summary; exits 1 if there is any error (warnings do not fail).
text is optional (separation dirs have none) unless --require_text is given.
"""
import argparse
import sys

from toolkit.data.validate import validate_data_dir
from toolkit.utils.errors import cli_main
from toolkit.utils.logging_setup import setup_logging


def get_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir")
    parser.add_argument("--fs", type=int, default=None, help="required sample rate (default: any)")
    parser.add_argument("--channels", type=int, default=1, help="required channel count (0: any)")
    parser.add_argument("--no_audio", "--no-audio", action="store_true", help="skip all audio checks")
    parser.add_argument("--no_sample_check", "--no-sample-check", action="store_true",
                        help="read audio headers only: no decode, NaN/inf or clipping checks")
    text = parser.add_mutually_exclusive_group()
    text.add_argument("--require_text", "--require-text", action="store_true", help="a missing text is an error")
    text.add_argument("--no_text", "--no-text", action="store_true", help="ignore text even if present")
    parser.add_argument("--nj", type=int, default=1, help="processes reading audio")
    parser.add_argument("--max_listed", "--max-listed", type=int, default=20,
                        help="list each kind of problem at most this often per file, count the rest (0: all)")
    parser.add_argument("--verbose", action="store_true")
    return parser


@cli_main
def main(argv=None):
    args = get_parser().parse_args(argv)
    setup_logging(args.verbose)
    report = validate_data_dir(args.data_dir, fs=args.fs, channels=args.channels, check_audio=not args.no_audio,
                               check_samples=not args.no_sample_check, nj=args.nj,
                               require_text=args.require_text, check_text=not args.no_text,
                               max_listed=args.max_listed)
    for line in report.errors:
        print(f"ERROR: {line}")
    for line in report.warnings:
        print(f"WARNING: {line}")
    verdict = "FAILED" if report.errors else "OK"
    print(f"{args.data_dir}: {verdict}: {len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    if report.errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
