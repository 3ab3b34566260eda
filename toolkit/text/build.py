"""build_tokenizer(token_type, **conf), and the tokenizer options shared by the CLIs."""
import inspect
import os

from toolkit.text.char_tokenizer import CharTokenizer
from toolkit.text.cleaners import CLEANERS
from toolkit.text.phoneme_tokenizer import PAUSE, PhonemeTokenizer
from toolkit.text.sentencepiece_tokenizer import SentencepieceTokenizer
from toolkit.text.token_list import SPACE
from toolkit.text.word_tokenizer import WordTokenizer
from toolkit.utils.config import str_or_none
from toolkit.utils.errors import ConfigError, DataError

TOKENIZERS = {"char": CharTokenizer, "word": WordTokenizer, "bpe": SentencepieceTokenizer, "phn": PhonemeTokenizer}
TOKENIZER_OPTIONS = ("token_type", "cleaner", "space_symbol", "nonling_symbols", "voice", "word_boundary",
                     "clause_boundary")


def build_tokenizer(token_type, **conf):
    """A tokenizer with text2tokens(text) and tokens2text(tokens).

    char: space_symbol, nonling_symbols, cleaner; word: cleaner; bpe: bpemodel (path),
    cleaner; phn: voice, word_boundary, clause_boundary, cleaner.
    """
    if token_type not in TOKENIZERS:
        raise ConfigError(f"unknown token_type {token_type!r}; choose one of {', '.join(TOKENIZERS)}")
    cls = TOKENIZERS[token_type]
    params = inspect.signature(cls).parameters
    unknown = sorted(set(conf) - set(params))
    if unknown:
        raise ConfigError(f"token_type {token_type} takes no option(s) {unknown}; it takes {sorted(params)}")
    missing = sorted(n for n, p in params.items() if p.default is p.empty and n not in conf)
    if missing:
        raise ConfigError(f"token_type {token_type} needs option(s) {missing}")
    return cls(**conf)


def add_tokenizer_args(parser):
    """The options that choose and configure a tokenizer (both CLIs take the same ones)."""
    group = parser.add_argument_group("tokenizer")
    group.add_argument("--token_type", choices=sorted(TOKENIZERS),
                       help="required; bpe covers both sentencepiece modes (bpe and unigram)")
    group.add_argument("--cleaner", default="none", choices=sorted(CLEANERS),
                       help="text cleaner applied before tokenising (see toolkit/text/cleaners.py)")
    group.add_argument("--space_symbol", default=SPACE, help="char: the token for a space")
    group.add_argument("--nonling_symbols", default=None,
                       help="char and bpe: file of symbols kept whole, one a line (e.g. [noise])")
    group.add_argument("--voice", default="en-us", help="phn: espeak-ng language/voice, e.g. en-us, cmn, de")
    group.add_argument("--word_boundary", type=str_or_none, default=SPACE,
                       help="phn: token between words; 'none' for none")
    group.add_argument("--clause_boundary", type=str_or_none, default=PAUSE,
                       help="phn: token between clauses (at punctuation); 'none' for the word boundary")
    return group


def read_nonling_symbols(path):
    """Symbols from a file, one a line (blank lines skipped)."""
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such non-linguistic symbol file (--nonling_symbols)")
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def tokenizer_conf(args, bpemodel=None):
    """The build_tokenizer options for args.token_type from parsed CLI args."""
    if args.token_type is None:
        raise ConfigError(f"--token_type is required: one of {', '.join(TOKENIZERS)}")
    if args.nonling_symbols and args.token_type not in ("char", "bpe"):
        raise ConfigError(f"--nonling_symbols applies to char and bpe tokens, not {args.token_type}")
    conf = {"cleaner": args.cleaner}
    if args.token_type == "char":
        conf.update(space_symbol=args.space_symbol,
                    nonling_symbols=read_nonling_symbols(args.nonling_symbols) if args.nonling_symbols else ())
    elif args.token_type == "bpe":
        if not bpemodel:
            raise ConfigError("token_type bpe needs a sentencepiece model (--bpemodel)")
        conf.update(bpemodel=bpemodel)
    elif args.token_type == "phn":
        conf.update(voice=args.voice, word_boundary=args.word_boundary, clause_boundary=args.clause_boundary)
    return conf
