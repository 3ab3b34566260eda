"""Boolean masks for padded batches. Convention: True marks what takes part (a real frame,
a key a query may attend to), as in torch.nn.functional.scaled_dot_product_attention."""
import torch


def valid_mask(lengths, max_len=None):
    """[batch, max_len] bool, True at the frames before each length."""
    max_len = int(lengths.max()) if max_len is None else max_len
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


def causal_mask(size, device=None):
    """[size, size] bool, True where key j <= query i (a decoder sees no future token)."""
    return torch.ones(size, size, dtype=torch.bool, device=device).tril_()
