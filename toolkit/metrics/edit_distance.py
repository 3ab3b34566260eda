"""Levenshtein alignment of two token sequences: the aligned pairs and the error counts.

Costs are unit (substitution, deletion, insertion: 1 each). Several alignments can
share the minimum cost with a different split into substitutions, deletions and
insertions ('a b' -> 'b a': two substitutions, or a deletion and an insertion
around a match). Ties are broken as rapidfuzz's Levenshtein.editops breaks them
(jiwer counts with it), so the split agrees with jiwer: the common prefix and
suffix are matched, then the trace walks back from the end and takes a deletion
when it is optimal, else an insertion when the diagonal cell is one worse than
the left cell, else the diagonal (rapidfuzz switches to Hirschberg's algorithm
for pairs of thousands of tokens, where its choice may differ; the counts' total
never does).
"""
from typing import NamedTuple

import numpy as np

CORRECT, SUB, DEL, INS = "C", "S", "D", "I"


class Alignment(NamedTuple):
    """pairs: [(op, ref_token or None, hyp_token or None)] in order; op is C, S, D or I."""

    pairs: list
    correct: int
    sub: int
    dels: int
    ins: int

    @property
    def errors(self):
        return self.sub + self.dels + self.ins

    @property
    def ref_len(self):
        return self.correct + self.sub + self.dels


def distance_matrix(ref_ids, hyp_ids):
    """Table d of shape (len(ref)+1, len(hyp)+1): d[i, j] = edit distance of ref[:i] and hyp[:j]."""
    n, m = len(ref_ids), len(hyp_ids)
    offsets = np.arange(m + 1)
    d = np.empty((n + 1, m + 1), dtype=np.int64)
    d[0] = offsets
    best = np.empty(m + 1, dtype=np.int64)
    for i in range(1, n + 1):
        best[0] = i
        np.minimum(d[i - 1, 1:] + 1, d[i - 1, :-1] + (hyp_ids != ref_ids[i - 1]), out=best[1:])
        # then insertions along the row: d[i, j] = min over k <= j of best[k] + (j - k)
        d[i] = np.minimum.accumulate(best - offsets) + offsets
    return d


def _trace(ref, hyp):
    """The (op, ref, hyp) pairs of a minimum-cost alignment, tie-broken as the module doc says."""
    vocab = {}
    ref_ids = np.array([vocab.setdefault(t, len(vocab)) for t in ref], dtype=np.int64)
    hyp_ids = np.array([vocab.setdefault(t, len(vocab)) for t in hyp], dtype=np.int64)
    d = distance_matrix(ref_ids, hyp_ids).tolist()
    pairs = []
    i, j = len(ref), len(hyp)
    while i and j:
        if d[i][j] == d[i - 1][j] + 1:
            i -= 1
            pairs.append((DEL, ref[i], None))
        elif j > 1 and d[i - 1][j - 1] == d[i][j - 1] + 1:
            j -= 1
            pairs.append((INS, None, hyp[j]))
        else:
            i, j = i - 1, j - 1
            pairs.append((CORRECT if ref[i] == hyp[j] else SUB, ref[i], hyp[j]))
    pairs += [(DEL, ref[k], None) for k in reversed(range(i))]
    pairs += [(INS, None, hyp[k]) for k in reversed(range(j))]
    return pairs[::-1]


def align(ref, hyp):
    """Align token sequences `ref` and `hyp` (any hashable tokens) -> Alignment."""
    ref, hyp = list(ref), list(hyp)
    shorter = min(len(ref), len(hyp))
    prefix = 0
    while prefix < shorter and ref[prefix] == hyp[prefix]:
        prefix += 1
    suffix = 0
    while suffix < shorter - prefix and ref[-1 - suffix] == hyp[-1 - suffix]:
        suffix += 1
    pairs = ([(CORRECT, t, t) for t in ref[:prefix]]
             + _trace(ref[prefix:len(ref) - suffix], hyp[prefix:len(hyp) - suffix])
             + [(CORRECT, t, t) for t in ref[len(ref) - suffix:]])
    counts = {op: 0 for op in (CORRECT, SUB, DEL, INS)}
    for op, _, _ in pairs:
        counts[op] += 1
    return Alignment(pairs, counts[CORRECT], counts[SUB], counts[DEL], counts[INS])
