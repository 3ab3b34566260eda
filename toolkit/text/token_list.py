"""Token lists (`tokens.txt`: one token a line, the line number is its id) and id conversion.

Layout: `<blank>` (id 0, CTC blank), `<unk>` (id 1), the tokens, `<sos/eos>` last.
Counted token lists order the tokens by descending count, then lexically.
"""
import logging
import os

from toolkit.utils.errors import DataError

BLANK = "<blank>"
UNK = "<unk>"
SOS_EOS = "<sos/eos>"
SPACE = "<space>"
SPECIAL_TOKENS = (BLANK, UNK, SOS_EOS)


def build_token_list(counts, min_count=1, max_vocab=None):
    """Token list from a {token: count} mapping; returns (tokens, dropped {token: count}).

    Tokens seen fewer than `min_count` times, or beyond the `max_vocab` most frequent
    (special tokens not counted), are dropped: they will map to `<unk>`.
    """
    ranked = sorted(((-c, t) for t, c in counts.items() if t not in SPECIAL_TOKENS))
    kept = [t for c, t in ranked if -c >= min_count]
    if max_vocab is not None:
        kept = kept[:max_vocab]
    kept_set = set(kept)
    dropped = {t: -c for c, t in ranked if t not in kept_set}
    return [BLANK, UNK, *kept, SOS_EOS], dropped


def log_dropped(dropped, reason):
    """Log how many tokens (and occurrences) were dropped from a token list, and the commonest."""
    if dropped:
        common = sorted(dropped.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        logging.warning("dropped %d token types (%d occurrences, now <unk>) by %s; most frequent: %s",
                        len(dropped), sum(dropped.values()), reason,
                        " ".join(f"{t}:{c}" for t, c in common))


def write_token_list(path, tokens):
    """Write one token a line (atomic: temp file then rename)."""
    check_token_list(tokens, path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.writelines(f"{t}\n" for t in tokens)
    os.replace(tmp, path)


def read_token_list(path):
    """Read and check a token list file."""
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such token list; make one with `python -m toolkit.bin.train_tokenizer`")
    with open(path, encoding="utf-8") as f:
        tokens = [line.rstrip("\r\n") for line in f]
    check_token_list(tokens, path)
    return tokens


def check_token_list(tokens, path="token list"):
    """DataError naming the line of an empty, whitespace-holding or repeated token, or a missing `<unk>`."""
    seen = {}
    for lineno, token in enumerate(tokens, 1):
        if not token or token != "".join(token.split()):
            raise DataError(f"{path}:{lineno}: token {token!r} is empty or holds whitespace")
        if token in seen:
            raise DataError(f"{path}:{lineno}: token {token!r} repeats line {seen[token]}")
        seen[token] = lineno
    if UNK not in seen:
        raise DataError(f"{path}: has no {UNK} token")


class TokenIdConverter:
    """Tokens <-> ids by a token list (a path or a list); unknown tokens map to the `<unk>` id."""

    def __init__(self, token_list):
        if isinstance(token_list, (str, os.PathLike)):
            token_list = read_token_list(token_list)
        else:
            check_token_list(token_list)
        self.token_list = list(token_list)
        self.token2id = {t: i for i, t in enumerate(self.token_list)}
        self.unk_id = self.token2id[UNK]

    def __len__(self):
        return len(self.token_list)

    def tokens2ids(self, tokens):
        return [self.token2id.get(t, self.unk_id) for t in tokens]

    def ids2tokens(self, ids):
        ids = [int(i) for i in ids]
        bad = [i for i in ids if not 0 <= i < len(self.token_list)]
        if bad:
            raise ValueError(f"token ids {bad[:5]} outside the token list of {len(self.token_list)}")
        return [self.token_list[i] for i in ids]
