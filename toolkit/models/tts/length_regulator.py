"""Length regulator of FastSpeech (Ren et al. 2019): repeat each token state for its duration."""
import torch
from torch import nn

from toolkit.layers.masks import valid_mask
from toolkit.utils.errors import DataError


class LengthRegulator(nn.Module):
    """`forward(xs [B, L, D], durations [B, L] int) -> (frames [B, T, D], lengths [B])`.

    Row b of the output is xs[b, l] repeated durations[b, l] times for l = 0 .. L-1,
    zero-padded to T = the largest total (or `max_len`). Zero durations drop a token;
    padded tokens must have duration 0. Each frame finds its token by a binary search
    over the cumulative durations, so no Python loop runs over frames or utterances.
    """

    def forward(self, xs, durations, max_len=None):
        if durations.dtype.is_floating_point:
            raise DataError(f"durations must be integer frame counts, got {durations.dtype}")
        if bool((durations < 0).any()):
            raise DataError("durations must be >= 0; a negative frame count reached the length regulator")
        ends = durations.cumsum(dim=1)  # frame index where each token stops
        lengths = ends[:, -1] if ends.shape[1] else durations.new_zeros(durations.shape[0])
        max_len = int(lengths.max()) if max_len is None else max_len
        frames = torch.arange(max_len, device=xs.device).expand(xs.shape[0], max_len).contiguous()
        token = torch.searchsorted(ends.contiguous(), frames, right=True).clamp_(max=max(xs.shape[1] - 1, 0))
        out = xs.gather(1, token.unsqueeze(-1).expand(-1, -1, xs.shape[-1]))
        return out.masked_fill(~valid_mask(lengths, max_len).unsqueeze(-1), 0.0), lengths
