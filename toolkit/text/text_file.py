"""Kaldi `text` files (`utt words...`): read, tokenise every utterance in parallel, report unknowns."""
import collections
import logging
import multiprocessing

from toolkit.data.tables import read_table
from toolkit.text.token_list import UNK
from toolkit.utils.errors import DataError

_worker = {}


def read_text(path):
    """[(utt, text)] in file order; a text may be empty, the file may not."""
    items = list(read_table(path, allow_empty=True).items())
    if not items:
        raise DataError(f"{path}: no utterances")
    return items


def _init_worker(tokenizer):
    _worker["tokenizer"] = tokenizer


def _tokenize(item):
    utt, text = item
    return utt, _worker["tokenizer"].text2tokens(text)


def tokenize_texts(tokenizer, items, nj=1, path="text"):
    """[(utt, tokens)] in the order of `items`, tokenised by `nj` processes.

    An utterance without tokens is a DataError naming it (and `path`).
    """
    if nj > 1 and len(items) > 1:
        # spawn: each worker starts its own espeak-ng engine rather than a forked copy
        with multiprocessing.get_context("spawn").Pool(nj, _init_worker, (tokenizer,)) as pool:
            result = pool.map(_tokenize, items, chunksize=max(1, min(256, len(items) // (4 * nj))))
    else:
        result = [(utt, tokenizer.text2tokens(text)) for utt, text in items]
    check_nonempty(result, path, "tokens after tokenisation")
    return result


def check_nonempty(items, path, what):
    """DataError naming the utterances of [(utt, text or tokens)] that have none."""
    empty = [utt for utt, value in items if not value]
    if empty:
        more = f" (and {len(empty) - 1} more: {' '.join(empty[1:6])}...)" if len(empty) > 1 else ""
        raise DataError(f"{path}: utterance {empty[0]} has no {what}{more}; "
                        f"fix its text or remove it from the data directory")


def unknown_report(tokenized, token2id, worst=5):
    """Count tokens that map to `<unk>`: totals, counts by token, the `worst` utterances by rate."""
    by_token = collections.Counter()
    per_utt = []
    total = 0
    for utt, tokens in tokenized:
        unknown = [t for t in tokens if t == UNK or t not in token2id]
        total += len(tokens)
        by_token.update(unknown)
        if unknown:
            per_utt.append((len(unknown) / len(tokens), utt, unknown))
    per_utt.sort(key=lambda x: (-x[0], x[1]))
    return {"tokens": total, "unknown": sum(by_token.values()), "by_token": by_token,
            "utterances": len(per_utt), "worst": per_utt[:worst]}


def log_unknown(report, what):
    """Log an unknown_report: a warning when any token maps to `<unk>`."""
    if not report["unknown"]:
        logging.info("%s: all %d tokens are in the token list", what, report["tokens"])
        return
    common = " ".join(f"{t}:{c}" for t, c in report["by_token"].most_common(10))
    worst = "; ".join(f"{utt} {rate:.0%} ({' '.join(unk[:5])})" for rate, utt, unk in report["worst"])
    logging.warning("%s: %d of %d tokens (%.2f%%) in %d utterances map to %s; commonest: %s; "
                    "highest rates: %s", what, report["unknown"], report["tokens"],
                    100 * report["unknown"] / report["tokens"], report["utterances"], UNK, common, worst)
