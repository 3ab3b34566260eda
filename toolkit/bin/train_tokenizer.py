"""Make a token list (and for bpe a sentencepiece model) from a Kaldi text file.

    python -m toolkit.bin.train_tokenizer --token_type bpe --nbpe 300 --bpemode unigram \
        --text data/train/text --out_dir data/token_list/bpe_unigram300
    python -m toolkit.bin.train_tokenizer --token_type char|word|phn --text data/train/text \
        --out_dir data/token_list/char [--min_count N] [--max_vocab N (word)] [--nj 4]

Writes out_dir/tokens.txt: `<blank>`, `<unk>`, the tokens, `<sos/eos>` (line number =
id). char/word/phn tokens are counted on the text and ordered by descending count then
lexically. bpe trains out_dir/bpe.model with sentencepiece (deterministic) and lists its
pieces in model order. out_dir/tokenizer.yaml holds the tokenizer options, bpemodel and
token_list: give out_dir to tokenize_text as --token_dir to tokenise other sets the same way.
"""
import collections
import logging
import os
import time

from toolkit.text.build import (TOKENIZER_OPTIONS, add_tokenizer_args, build_tokenizer, read_nonling_symbols,
                                tokenizer_conf)
from toolkit.text.cleaners import get_cleaner
from toolkit.text.sentencepiece_tokenizer import sentencepiece_token_list, train_sentencepiece
from toolkit.text.text_file import check_nonempty, log_unknown, read_text, tokenize_texts, unknown_report
from toolkit.text.token_list import build_token_list, log_dropped, write_token_list
from toolkit.utils.config import get_parser, int_or_none, parse_args, save_config
from toolkit.utils.errors import ConfigError, cli_main
from toolkit.utils.logging_setup import setup_logging


def get_args(argv):
    parser = get_parser(description=__doc__.split("\n")[0])
    parser.add_argument("--text", help="Kaldi text file: `utt words...`")
    parser.add_argument("--out_dir", help="writes tokens.txt (and bpe.model) here")
    add_tokenizer_args(parser)
    group = parser.add_argument_group("bpe")
    group.add_argument("--nbpe", type=int, help="sentencepiece vocabulary size (with its <unk>)")
    group.add_argument("--bpemode", default="unigram", choices=("unigram", "bpe"))
    group.add_argument("--character_coverage", type=float, default=1.0,
                       help="1.0 for alphabets, 0.9995 for Mandarin/Japanese")
    group.add_argument("--input_sentence_size", type=int, default=10_000_000,
                       help="train on a random sample of this many lines when the text is longer")
    group = parser.add_argument_group("counted token lists (char, word, phn)")
    group.add_argument("--min_count", type=int, default=1, help="drop tokens seen fewer times")
    group.add_argument("--max_vocab", type=int_or_none, default=None,
                       help="word: keep at most this many most frequent words")
    parser.add_argument("--nj", type=int, default=1, help="tokenising processes (phonemisation is slow)")
    parser.add_argument("--verbose", action="store_true")
    args = parse_args(parser, argv)
    for name in ("text", "out_dir"):
        if not getattr(args, name):
            raise ConfigError(f"--{name} is required")
    if args.token_type == "bpe" and not args.nbpe:
        raise ConfigError("token_type bpe needs --nbpe (the sentencepiece vocabulary size)")
    if args.token_type == "bpe" and (args.min_count != 1 or args.max_vocab is not None):
        raise ConfigError("--min_count and --max_vocab apply to counted token lists, not bpe (use --nbpe)")
    if args.max_vocab is not None and args.token_type != "word":
        raise ConfigError(f"--max_vocab applies to word tokens, not {args.token_type}")
    return args


def train_bpe(args, items):
    """Train out_dir/bpe.model on the cleaned text; return (token list, tokenizer conf)."""
    conf = tokenizer_conf(args, bpemodel=os.path.join(args.out_dir, "bpe.model"))
    cleaner = get_cleaner(args.cleaner)
    texts = [(utt, " ".join(cleaner(text).split())) for utt, text in items]
    check_nonempty(texts, args.text, "text after cleaning")
    symbols = read_nonling_symbols(args.nonling_symbols) if args.nonling_symbols else ()
    train_sentencepiece([text for _, text in texts], conf["bpemodel"], args.nbpe, args.bpemode,
                        args.character_coverage, args.input_sentence_size, symbols)
    return sentencepiece_token_list(conf["bpemodel"]), conf


@cli_main
def main(argv=None):
    args = get_args(argv)
    setup_logging(args.verbose)
    start = time.time()
    items = read_text(args.text)
    if args.token_type == "bpe":
        tokens, conf = train_bpe(args, items)
    else:
        conf = tokenizer_conf(args)
        counts = collections.Counter()
        for _, utt_tokens in tokenize_texts(build_tokenizer(args.token_type, **conf), items, args.nj, args.text):
            counts.update(utt_tokens)
        tokens, dropped = build_token_list(counts, args.min_count, args.max_vocab)
        log_dropped(dropped, f"--min_count {args.min_count} / --max_vocab {args.max_vocab}")
    token_list = os.path.join(args.out_dir, "tokens.txt")
    write_token_list(token_list, tokens)
    if args.token_type == "bpe":  # characters left out by --character_coverage become <unk>
        tokenized = tokenize_texts(build_tokenizer("bpe", **conf), items, args.nj, args.text)
        log_unknown(unknown_report(tokenized, set(tokens)), f"{args.text} encoded by {conf['bpemodel']}")
    options = {k: getattr(args, k) for k in TOKENIZER_OPTIONS}
    save_config({**options, "bpemodel": conf.get("bpemodel"), "token_list": token_list},
                os.path.join(args.out_dir, "tokenizer.yaml"))
    logging.info("wrote %s: %d tokens (%s, from %d utterances) in %.1f s", token_list, len(tokens),
                 args.token_type, len(items), time.time() - start)


if __name__ == "__main__":
    main()
