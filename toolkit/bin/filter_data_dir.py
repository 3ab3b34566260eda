"""Drop utterances that are too short, too long or untrainable; list each removal with its reason.

    python -m toolkit.bin.filter_data_dir --min_frames 10 --max_frames 3000 --subsampling 4 SRC DEST

    python -m toolkit.bin.filter_data_dir --min_samples 8000 --max_samples 160000 SRC DEST  (audio)

SRC is a dump dir with utt2num_frames and token_int, or an audio data dir with
utt2num_samples (a limit whose table is missing is an error); DEST/removed.txt lists `utt reason`.
"""
import argparse
import logging

from toolkit.data.dir_filter import filter_data_dir
from toolkit.utils.errors import DataError, cli_main
from toolkit.utils.logging_setup import setup_logging


@cli_main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("src")
    parser.add_argument("dest")
    parser.add_argument("--min_frames", type=int)
    parser.add_argument("--max_frames", type=int)
    parser.add_argument("--max_tokens", type=int)
    parser.add_argument("--min_samples", type=int, help="audio: shortest utterance (utt2num_samples)")
    parser.add_argument("--max_samples", type=int, help="audio: longest utterance (utt2num_samples)")
    parser.add_argument("--subsampling", type=int, help="encoder frame subsampling: drop utterances CTC cannot align")
    args = parser.parse_args(argv)
    setup_logging()
    kept, removed = filter_data_dir(args.src, args.dest, min_frames=args.min_frames, max_frames=args.max_frames,
                                    max_tokens=args.max_tokens, subsampling=args.subsampling,
                                    min_samples=args.min_samples, max_samples=args.max_samples)
    if kept == 0:
        raise DataError(f"{args.src}: the filters removed every utterance; see {args.dest}/removed.txt")
    logging.info("%s -> %s: kept %d utterances, removed %d (reasons in %s/removed.txt)",
                 args.src, args.dest, kept, removed, args.dest)


if __name__ == "__main__":
    main()
