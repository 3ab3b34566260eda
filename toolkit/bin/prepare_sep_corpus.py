"""Generate a published speech-separation corpus from its sources and write separation data dirs.

    python -m toolkit.bin.prepare_sep_corpus --corpus wsj0_2mix --src WSJ0 --lists_dir LISTS \
        --dst data --wav_dir wsj0-mix/2speakers --fs 8000 --mode min [--sets tr cv tt] [--nj 4]
        -> data/{tr,cv,tt}_8k_min, wavs in wsj0-mix/2speakers/wav8k/min/{tr,cv,tt}/{mix,s1,s2}/
    python -m toolkit.bin.prepare_sep_corpus --corpus libri2mix --src LibriSpeech \
        --lists_dir LibriMix/metadata/Libri2Mix \
        --dst data --wav_dir Libri2Mix --fs 8000 --mode min [--noise_dir wham_noise] [--parts dev-clean ...] [--nj 4]
        -> data/{train_100,train_360,dev,test}_clean_8k_min (+ ..._both_8k_min with --noise_dir)

wsj0_2mix: --src is the folder holding wsj0/ (converted to wav, or .wv1 with sph2pipe on PATH),
--lists_dir holds MERL's mix_2_spk_{tr,cv,tt}.txt. libri2mix: --src is the LibriSpeech folder,
--lists_dir holds LibriMix's libri2mix_PART.csv. See toolkit/corpus/real/{wsj0_2mix,libri2mix}.py
for how the mixtures are made. Each data dir holds one rate and one mode.
"""
import argparse

from toolkit.corpus.real import libri2mix, mixing, wsj0_2mix
from toolkit.corpus.real.common import check_corpus_options
from toolkit.utils.errors import cli_main
from toolkit.utils.logging_setup import setup_logging

MODULES = {"wsj0_2mix": wsj0_2mix, "libri2mix": libri2mix}
ONLY = {"sets": "wsj0_2mix", "parts": "libri2mix", "noise_dir": "libri2mix"}


def get_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True, choices=sorted(MODULES))
    parser.add_argument("--src", required=True, help="WSJ0 folder (holding wsj0/) or LibriSpeech folder")
    parser.add_argument("--lists_dir", required=True, help="mix lists (wsj0_2mix) or metadata CSVs (libri2mix)")
    parser.add_argument("--dst", default="data", help="where the data dirs go")
    parser.add_argument("--wav_dir", required=True, help="where the mixture and source wavs are written")
    parser.add_argument("--fs", type=int, default=8000, choices=mixing.RATES)
    parser.add_argument("--mode", default="min", choices=mixing.MODES,
                        help="min: truncate to the shortest source; max: zero-pad to the longest")
    parser.add_argument("--sets", nargs="+", default=list(wsj0_2mix.SETS), help="wsj0_2mix: lists to make")
    parser.add_argument("--parts", nargs="+", default=list(libri2mix.PARTS), help="libri2mix: metadata parts")
    parser.add_argument("--noise_dir", default="", help="libri2mix: wham_noise folder; also makes mix_both")
    parser.add_argument("--nj", type=int, default=1, help="worker processes")
    parser.add_argument("--verbose", action="store_true")
    return parser


@cli_main
def main(argv=None):
    parser = get_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    check_corpus_options(parser, args, ONLY)
    if args.nj <= 1:
        mixing.one_thread()
    common = {"fs": args.fs, "mode": args.mode, "nj": args.nj}
    if args.corpus == "wsj0_2mix":
        counts = wsj0_2mix.prepare(args.src, args.dst, args.lists_dir, args.wav_dir, sets=tuple(args.sets), **common)
    else:
        counts = libri2mix.prepare(args.src, args.dst, args.lists_dir, args.wav_dir, parts=tuple(args.parts),
                                   noise_dir=args.noise_dir or None, **common)
    print(f"prepare_sep_corpus: {args.corpus}: " + ", ".join(f"{args.dst}/{name} {n} mixtures"
                                                             for name, n in counts.items()))


if __name__ == "__main__":
    main()
