"""Collate keyed examples into padded batches with lengths."""
import numpy as np
import torch


def pad_list(arrays, pad_value=0):
    """Stack arrays of shape [len, ...] into [batch, max_len, ...] padded with pad_value."""
    max_len = max(a.shape[0] for a in arrays)
    out = np.full((len(arrays), max_len, *arrays[0].shape[1:]), pad_value, dtype=arrays[0].dtype)
    for i, a in enumerate(arrays):
        out[i, : a.shape[0]] = a
    return torch.from_numpy(out)


class PadCollate:
    """[(utt, {name: array})] -> (utts, {name: padded tensor, name_lengths: int64 tensor}).

    pad_values maps field name -> padding value (default 0; use -1 for token ids so
    losses can ignore padding). String fields are passed as lists.
    """

    def __init__(self, pad_values=None):
        self.pad_values = dict(pad_values or {})

    def __call__(self, items):
        utts = [utt for utt, _ in items]
        batch = {}
        for name in items[0][1]:
            values = [example[name] for _, example in items]
            if isinstance(values[0], str):
                batch[name] = values
                continue
            batch[name] = pad_list(values, self.pad_values.get(name, 0))
            batch[f"{name}_lengths"] = torch.tensor([v.shape[0] for v in values], dtype=torch.int64)
        return utts, batch

