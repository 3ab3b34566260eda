"""sclite-style alignment report: per-utterance REF/HYP/Eval lines, a summary, confusion pairs.

For each utterance (errors in UPPERCASE, gaps as `*` the width of the column):

    id: (utt1)
    Scores: (#C #S #D #I) 3 1 0 1
    REF:  the cat SAT *** on
    HYP:  the cat SET NOW on
    Eval:         S   I
"""
import collections
import unicodedata

from toolkit.metrics.edit_distance import CORRECT, SUB

TOP_CONFUSIONS = 20


def display_width(text):
    """Terminal columns of `text`: wide (CJK) characters take two, combining marks none."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in text)


def _pad(text, width):
    return text + " " * (width - display_width(text))


def utterance_block(utt_score):
    """The lines of one utterance's alignment."""
    a = utt_score.alignment
    ref_cells, hyp_cells, eval_cells = [], [], []
    for op, ref, hyp in a.pairs:
        if op != CORRECT:
            ref, hyp = (None if ref is None else ref.upper()), (None if hyp is None else hyp.upper())
        width = max(display_width(t) for t in (ref, hyp) if t is not None)
        ref_cells.append("*" * width if ref is None else _pad(ref, width))
        hyp_cells.append("*" * width if hyp is None else _pad(hyp, width))
        eval_cells.append(_pad("" if op == CORRECT else op, width))
    return [f"id: ({utt_score.utt})",
            f"Scores: (#C #S #D #I) {a.correct} {a.sub} {a.dels} {a.ins}",
            ("REF:  " + " ".join(ref_cells)).rstrip(),
            ("HYP:  " + " ".join(hyp_cells)).rstrip(),
            ("Eval: " + " ".join(eval_cells)).rstrip()]


def summary_lines(total, unit, num_utts, missing):
    """Totals: utterances, reference tokens, correct and each error kind in counts and percent."""
    def share(n):
        return f"{n} ({100.0 * n / max(total['ref_len'], 1):.2f}%)"
    lines = ["SUMMARY",
             f"utterances        : {num_utts} ({total['utts_with_errors']} with errors, "
             f"{100.0 * total['utts_with_errors'] / num_utts:.2f}%)",
             f"reference {unit + 's':8}: {total['ref_len']}",
             f"correct           : {share(total['correct'])}",
             f"substitutions     : {share(total['sub'])}",
             f"deletions         : {share(total['dels'])}",
             f"insertions        : {share(total['ins'])}",
             f"errors            : {total['errors']} ({total['rate']:.2f}%)"]
    if missing:
        lines.append(f"missing hypotheses: {len(missing)}, scored as all deletions: {' '.join(missing)}")
    return lines


def confusion_lines(scores, top=TOP_CONFUSIONS):
    """The `top` most frequent substitutions `ref ==> hyp` with their counts."""
    pairs = collections.Counter((ref, hyp) for s in scores for op, ref, hyp in s.alignment.pairs
                                if op == SUB)
    ranked = sorted(pairs.items(), key=lambda item: (-item[1], item[0]))[:top]
    lines = [f"CONFUSION PAIRS (top {len(ranked)} of {len(pairs)} distinct; "
             f"{sum(pairs.values())} substitutions in total)"]
    lines += [f"{rank:4d}: {count:5d}  ->  {ref} ==> {hyp}" for rank, ((ref, hyp), count) in enumerate(ranked, 1)]
    return lines


def write_report(path, scores, total, unit, header_lines, missing=()):
    """Write the report of `scores` ([UttScore]) with their `total` (asr_scores.totals) to `path`."""
    lines = list(header_lines) + [""]
    for utt_score in scores:
        lines += utterance_block(utt_score) + [""]
    lines += summary_lines(total, unit, len(scores), list(missing)) + [""] + confusion_lines(scores)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
