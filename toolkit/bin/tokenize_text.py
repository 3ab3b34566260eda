"""Tokenise a Kaldi text file once and dump `utt tok tok ...` (and token ids).

    python -m toolkit.bin.tokenize_text --token_type bpe --bpemodel data/token_list/bpe_unigram300/bpe.model \
        --token_list data/token_list/bpe_unigram300/tokens.txt --text data/train/text \
        --out data/train/token [--out_ids data/train/token_int] [--nj 4]
    python -m toolkit.bin.tokenize_text --token_dir data/token_list/phn \
        --text data/dev/text --out data/dev/token

--token_dir DIR reads DIR/tokenizer.yaml, written by train_tokenizer (the same as
--config DIR/tokenizer.yaml): its token type, options, bpemodel and token list, so a
set is tokenised exactly as the training text was; command-line options override it. Tokens not in the token list (they get the `<unk>`
id) are counted and logged with the utterances of highest unknown rate. An utterance
with no tokens is an error naming it. Output order is the sorted utterance order for
any --nj.
"""
import argparse
import logging
import os
import sys
import time

from toolkit.data.tables import write_table
from toolkit.text.build import add_tokenizer_args, build_tokenizer, tokenizer_conf
from toolkit.text.text_file import log_unknown, read_text, tokenize_texts, unknown_report
from toolkit.text.token_list import TokenIdConverter
from toolkit.utils.config import get_parser, parse_args
from toolkit.utils.errors import ConfigError, cli_main
from toolkit.utils.logging_setup import setup_logging


def token_dir_as_config(argv):
    """Replace `--token_dir DIR` by `--config DIR/tokenizer.yaml` (first: the command line still wins)."""
    pre = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    pre.add_argument("--token_dir", "--token-dir")
    known, rest = pre.parse_known_args(argv)
    if known.token_dir is None:
        return argv
    if any(a == "--config" or a.startswith("--config=") for a in rest):
        raise ConfigError("give --token_dir or --config, not both")
    return ["--config", os.path.join(known.token_dir, "tokenizer.yaml"), *rest]


def get_args(argv):
    argv = token_dir_as_config(sys.argv[1:] if argv is None else list(argv))
    parser = get_parser(description=__doc__.split("\n")[0])
    parser.add_argument("--token_dir", help="train_tokenizer's output dir: reads its tokenizer.yaml")
    parser.add_argument("--text", help="Kaldi text file: `utt words...`")
    parser.add_argument("--token_list", help="tokens.txt from train_tokenizer")
    parser.add_argument("--bpemodel", help="bpe: the sentencepiece model")
    add_tokenizer_args(parser)
    parser.add_argument("--out", help="writes `utt tok tok ...` here")
    parser.add_argument("--out_ids", help="also writes `utt id id ...` here")
    parser.add_argument("--nj", type=int, default=1, help="tokenising processes (phonemisation is slow)")
    parser.add_argument("--verbose", action="store_true")
    args = parse_args(parser, argv)
    for name in ("text", "token_list", "out"):
        if not getattr(args, name):
            raise ConfigError(f"--{name} is required")
    return args


@cli_main
def main(argv=None):
    args = get_args(argv)
    setup_logging(args.verbose)
    start = time.time()
    converter = TokenIdConverter(args.token_list)
    tokenizer = build_tokenizer(args.token_type, **tokenizer_conf(args, bpemodel=args.bpemodel))
    tokenized = tokenize_texts(tokenizer, read_text(args.text), args.nj, args.text)
    log_unknown(unknown_report(tokenized, converter.token2id), f"{args.text} ({args.token_list})")
    write_table(args.out, dict(tokenized))
    if args.out_ids:
        write_table(args.out_ids, {utt: converter.tokens2ids(tokens) for utt, tokens in tokenized})
    logging.info("wrote %s: %d utterances, %d tokens (%s) in %.1f s", args.out, len(tokenized),
                 sum(len(t) for _, t in tokenized), args.token_type, time.time() - start)


if __name__ == "__main__":
    main()
