"""utt2spk on stdin -> spk2utt on stdout (Kaldi's utils/utt2spk_to_spk2utt.pl).

    utils/utt2spk_to_spk2utt.pl < utt2spk > spk2utt

Speakers come in order of first appearance, each with its utterances in input order.
"""
import argparse
import sys

from toolkit.utils.errors import DataError, cli_main


def spk2utt_lines(lines):
    """Yield `spk utt1 utt2 ...` lines from `utt spk` lines (blank lines skipped)."""
    spk2utt = {}
    for lineno, line in enumerate(lines, 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2:
            raise DataError(f"utt2spk line {lineno}: expected 'utterance speaker', got {line.rstrip()!r}")
        spk2utt.setdefault(fields[1], []).append(fields[0])
    for spk, utts in spk2utt.items():
        yield f"{spk} {' '.join(utts)}\n"


@cli_main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(argv)
    sys.stdout.writelines(spk2utt_lines(sys.stdin))


if __name__ == "__main__":
    main()
