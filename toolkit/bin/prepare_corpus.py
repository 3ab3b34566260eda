"""Make Kaldi data dirs from a published corpus as downloaded (see toolkit/corpus/real/).

    python -m toolkit.bin.prepare_corpus --corpus an4 --src downloads --dst data [--ndev_utts 100]
        -> data/{train,train_dev,train_nodev,test}
    python -m toolkit.bin.prepare_corpus --corpus librispeech --src downloads --dst data \
        [--parts dev-clean test-clean ...]      -> data/dev_clean, data/test_clean, ...
    python -m toolkit.bin.prepare_corpus --corpus aishell --src downloads --dst data
        -> data/{train,dev,test}
    python -m toolkit.bin.prepare_corpus --corpus ljspeech --src downloads --dst data
        -> data/{train,dev,test} (the last 500 utterances held out: 250 dev, 250 test)

--src is the corpus folder (an4, LibriSpeech, data_aishell, LJSpeech-1.1) or the folder holding it.
wav.scp holds absolute paths to the audio, read in place. Utterances missing audio or a
transcript are left out and listed in DST/local/<corpus>_dropped.txt.
"""
import argparse
import importlib

from toolkit.corpus.real import CORPORA
from toolkit.corpus.real.common import check_corpus_options
from toolkit.corpus.real.librispeech import PARTS
from toolkit.utils.errors import cli_main
from toolkit.utils.logging_setup import setup_logging


def get_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True, choices=CORPORA)
    parser.add_argument("--src", required=True, help="the downloaded corpus (or the folder holding it)")
    parser.add_argument("--dst", default="data", help="where the data dirs go")
    parser.add_argument("--ndev_utts", type=int, default=100, help="an4: training utterances held out as train_dev")
    parser.add_argument("--parts", nargs="+", default=list(PARTS), help="librispeech: the parts to prepare")
    parser.add_argument("--verbose", action="store_true")
    return parser


@cli_main
def main(argv=None):
    parser = get_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    options = {"an4": {"ndev_utts": args.ndev_utts}, "librispeech": {"parts": tuple(args.parts)}}
    check_corpus_options(parser, args, {"ndev_utts": "an4", "parts": "librispeech"})
    module = importlib.import_module(f"toolkit.corpus.real.{args.corpus}")
    counts = module.prepare(args.src, args.dst, **options.get(args.corpus, {}))
    print(f"prepare_corpus: {args.corpus}: " + ", ".join(f"{args.dst}/{name} {n} utts" for name, n in counts.items()))


if __name__ == "__main__":
    main()
