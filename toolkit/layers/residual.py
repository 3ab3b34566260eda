"""The residual sub-layer wiring shared by Transformer and Conformer layers."""
import torch


def residual(x, fn, norm, dropout, normalize_before, scale=1.0):
    """x + scale * dropout(fn(norm(x))) (pre-norm), or norm(x + scale * dropout(fn(x))) (post-norm)."""
    y = torch.add(x, dropout(fn(norm(x) if normalize_before else x)), alpha=scale)
    return y if normalize_before else norm(y)
