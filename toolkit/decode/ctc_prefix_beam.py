"""CTC prefix beam search without a language model, vectorised over the beam.

Each prefix keeps two log probabilities, of the frames so far ending in blank (pb) and
ending in its last token (pnb). Prefixes live in a trie (integer node ids), so an extension
that equals a prefix already in the beam is found with one array comparison and merged.
"""
import numpy as np
import torch


def prune_tokens(log_probs, token_topk=None, token_min_logp=None):
    """Boolean [T, V] mask of tokens searched at each frame.

    A token is kept when it is among the `token_topk` best of its frame and its log
    probability is at least `token_min_logp` (each test only when set); the best token
    of a frame is always kept. Pruned tokens, blank included, are impossible at that frame.
    """
    num_frames, vocab = log_probs.shape
    keep = np.ones((num_frames, vocab), dtype=bool)
    if token_min_logp is not None:
        keep &= log_probs >= token_min_logp
    if token_topk is not None and token_topk < vocab:
        top = np.argpartition(-log_probs, token_topk - 1, axis=1)[:, :token_topk]
        in_top = np.zeros_like(keep)
        np.put_along_axis(in_top, top, True, axis=1)
        keep &= in_top
    keep[np.arange(num_frames), log_probs.argmax(axis=1)] = True
    return keep


def ctc_prefix_beam_search(log_probs, beam=10, token_topk=None, token_min_logp=None, blank=0):
    """N-best label sequences of one utterance, best first.

    log_probs: [T, V] CTC log probabilities (torch tensor or numpy array).
    beam: prefixes kept after each frame. token_topk / token_min_logp: per-frame token
    pruning (see `prune_tokens`; None searches every token).
    Returns up to `beam` pairs (token id list, log probability of the prefix).
    """
    if isinstance(log_probs, torch.Tensor):
        log_probs = log_probs.detach().cpu().numpy()
    log_probs = np.asarray(log_probs, dtype=np.float64)
    num_frames, vocab = log_probs.shape
    keep = prune_tokens(log_probs, token_topk, token_min_logp)
    # column `vocab` is the "last token" of the empty prefix: never repeated
    lp = np.full((num_frames, vocab + 1), -np.inf)
    lp[:, :vocab] = np.where(keep, log_probs, -np.inf)
    keep[:, blank] = False
    frame_of, token_of = np.nonzero(keep)  # tokens that may start or repeat a label, per frame
    bounds = np.searchsorted(frame_of, np.arange(num_frames + 1))

    trie = _Trie(no_token=vocab)
    nodes = np.zeros(1, dtype=np.int64)          # trie node of each beam entry
    parents = np.full(1, -1, dtype=np.int64)     # trie node of its prefix minus the last token
    last = np.full(1, vocab, dtype=np.int64)     # its last token
    pb, pnb = np.zeros(1), np.full(1, -np.inf)
    for t in range(num_frames):
        row = lp[t]
        total = np.logaddexp(pb, pnb)
        tokens = token_of[bounds[t]:bounds[t + 1]]
        if len(tokens) == 0:  # only blank is possible: every prefix stays, now ending in blank
            pb, pnb = total + row[blank], np.full(len(pnb), -np.inf)
            continue
        stay_b = total + row[blank]
        stay_nb = pnb + row[last]
        ext = np.where(tokens == last[:, None], pb[:, None], total[:, None]) + row[tokens]
        _merge_extensions(ext, stay_nb, nodes, parents, last, tokens)
        chosen = _top(np.concatenate([np.logaddexp(stay_b, stay_nb), ext.ravel()]), beam)
        stays, exts = chosen[chosen < len(nodes)], chosen[chosen >= len(nodes)] - len(nodes)
        src, tok = exts // len(tokens), tokens[exts % len(tokens)]
        new_nodes = [trie.child(n, k) for n, k in zip(nodes[src].tolist(), tok.tolist())]
        parents = np.concatenate([parents[stays], nodes[src]])
        nodes = np.concatenate([nodes[stays], np.array(new_nodes, dtype=np.int64)])
        last = np.concatenate([last[stays], tok])
        pb = np.concatenate([stay_b[stays], np.full(len(exts), -np.inf)])
        pnb = np.concatenate([stay_nb[stays], ext.ravel()[exts]])
    total = np.logaddexp(pb, pnb)
    order = np.argsort(-total, kind="stable")
    return [(trie.tokens(int(nodes[i])), float(total[i])) for i in order]


def _merge_extensions(ext, stay_nb, nodes, parents, last, tokens):
    """Move extensions that already are beam entries into those entries (in place)."""
    match = parents[:, None] == nodes[None, :]  # [j, i]: entry j is entry i plus one token
    pos = np.minimum(np.searchsorted(tokens, last), len(tokens) - 1)
    hit = match.any(axis=1) & (tokens[pos] == last)
    if hit.any():
        j = np.flatnonzero(hit)
        i, k = match[j].argmax(axis=1), pos[j]
        stay_nb[j] = np.logaddexp(stay_nb[j], ext[i, k])
        ext[i, k] = -np.inf


def _top(scores, beam):
    """Indices of the `beam` best finite scores (unordered)."""
    finite = np.flatnonzero(scores > -np.inf)
    if len(finite) > beam:
        finite = finite[np.argpartition(-scores[finite], beam - 1)[:beam]]
    return finite


class _Trie:
    """Prefixes as integer nodes; node 0 is the empty prefix."""

    def __init__(self, no_token):
        self.parent, self.token, self.children = [-1], [no_token], {}

    def child(self, node, token):
        key = (node, token)
        if key not in self.children:
            self.children[key] = len(self.parent)
            self.parent.append(node)
            self.token.append(token)
        return self.children[key]

    def tokens(self, node):
        out = []
        while node > 0:
            out.append(self.token[node])
            node = self.parent[node]
        return out[::-1]
