"""Word, character and token error rates of a hypothesis text file against a reference one.

Both files are Kaldi text files (`utt words...`; an empty text is allowed). Every
reference utterance is scored: one without a hypothesis counts as all deletions
and is reported; a hypothesis without a reference is an error.

Units:
- word: the text split at whitespace.
- char (CER): every character of the text with whitespace removed, so a CER
  counts spoken characters only (as ESPnet's in-training CER and the usual
  Mandarin convention do). ESPnet's asr.sh scores CER with sclite over char
  tokens that include `<space>`; for that number, score tokens with the char
  tokenizer (`token_type char` gives `<space>` tokens) as the TER.
- token (TER): the tokens of a toolkit tokenizer (toolkit/text/build.py).
A rate is 100 * (S + D + I) / reference tokens; with no reference tokens at all it
is 100 * errors (jiwer's convention: errors per one token).
"""
import logging
from typing import NamedTuple

from toolkit.data.tables import read_table
from toolkit.metrics.edit_distance import align
from toolkit.utils.errors import DataError

SHOWN_UTTS = 10  # utterance ids named in a warning or an error


class UttScore(NamedTuple):
    """One utterance: its id and the Alignment of its reference and hypothesis tokens."""

    utt: str
    alignment: object


def word_tokens(text):
    return text.split()


def char_tokens(text):
    return list("".join(text.split()))


def error_rate(errors, ref_len):
    """Percent errors per reference token (per one token when there are none)."""
    return 100.0 * errors / max(ref_len, 1)


def named_utts(utts):
    """The first SHOWN_UTTS ids of `utts`, and how many more there are."""
    shown = " ".join(utts[:SHOWN_UTTS])
    return shown + (f" ... ({len(utts) - SHOWN_UTTS} more)" if len(utts) > SHOWN_UTTS else "")


def read_pair(ref_path, hyp_path):
    """({utt: ref text}, {utt: hyp text}, [utts missing a hyp]); hyps of missing utts are ''.

    A hypothesis utterance absent from the reference is a DataError naming them; missing
    hypotheses are logged as a warning naming them.
    """
    refs = read_table(ref_path, allow_empty=True)
    hyps = read_table(hyp_path, allow_empty=True)
    if not refs:
        raise DataError(f"{ref_path}: no utterances")
    extra = sorted(set(hyps) - set(refs))
    if extra:
        raise DataError(f"{hyp_path}: {len(extra)} hypothesis utterance(s) have no reference in {ref_path}: "
                        f"{named_utts(extra)}; score against the reference of the set that was decoded")
    missing = sorted(set(refs) - set(hyps))
    if missing:
        logging.warning("%s: %d of %d reference utterances have no hypothesis; scored as all deletions: %s",
                        hyp_path, len(missing), len(refs), named_utts(missing))
    return refs, {utt: hyps.get(utt, "") for utt in refs}, missing


def score_utterances(refs, hyps, tokenize):
    """[UttScore] in sorted utterance order; `tokenize` maps a text to its token list."""
    return [UttScore(utt, align(tokenize(refs[utt]), tokenize(hyps[utt]))) for utt in sorted(refs)]


def totals(scores):
    """Summed counts and the error rate of a list of UttScore."""
    total = {key: sum(getattr(s.alignment, key) for s in scores)
             for key in ("ref_len", "correct", "sub", "dels", "ins", "errors")}
    total["rate"] = error_rate(total["errors"], total["ref_len"])
    total["utts_with_errors"] = sum(1 for s in scores if s.alignment.errors)
    return total
