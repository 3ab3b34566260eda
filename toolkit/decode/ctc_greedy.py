"""CTC greedy (best path) decoding: frame-wise argmax, collapse repeats, drop blanks."""
import torch


def ctc_greedy(log_probs, lengths=None, blank=0):
    """Token id lists for a batch of CTC outputs.

    log_probs: [B, T, V] (log-)probabilities; lengths: [B] valid frames per utterance
    (all T when None). Returns one list of token ids per utterance.
    """
    best = log_probs.argmax(dim=-1)  # [B, T]
    frames = torch.arange(best.size(1), device=best.device)
    valid = torch.ones_like(best, dtype=torch.bool) if lengths is None else frames < lengths.to(best.device)[:, None]
    changed = torch.ones_like(valid)
    changed[:, 1:] = best[:, 1:] != best[:, :-1]
    keep = valid & changed & (best != blank)
    return [row[mask].tolist() for row, mask in zip(best, keep)]
