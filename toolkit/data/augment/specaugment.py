"""SpecAugment (Park et al., 2019) on [time, freq] or padded [batch, time, freq] features.

Time warp moves the frame at a random centre c (W <= c < L - W, L the
utterance length) to a random position within W frames of it, stretching the
two sides by linear interpolation. Frequency masks have a width uniform in
[0, width] bins; time masks a width uniform in [0, width] frames or
[0, floor(width_ratio * L)] frames. Masks are filled with 0 or the utterance's
mean (over its valid frames, after warping). Frames past an utterance's length
are left as they are. The same torch.Generator state gives the same output.
"""
import torch
import torch.nn.functional as F

from toolkit.data.augment.conf import check_keys
from toolkit.utils.errors import ConfigError

FILLS = ("zero", "mean")


def _uniform_ints(uniform, low, high):
    """Integers uniform in [low, high] (tensors) from uniform [0, 1) draws."""
    return low + (uniform * (high - low + 1)).long().clamp(max=high - low)


def _span_mask(uniform, sizes, max_widths, axis_len):
    """[batch, axis_len] mask of spans: widths in [0, max_width], inside [0, size); uniform [batch, num, 2]."""
    widths = _uniform_ints(uniform[..., 0], 0, torch.minimum(max_widths, sizes)[:, None])
    starts = _uniform_ints(uniform[..., 1], 0, (sizes[:, None] - widths))
    pos = torch.arange(axis_len)[None, None, :]
    inside = (pos >= starts[..., None]) & (pos < (starts + widths)[..., None])
    return inside.any(dim=1)


class SpecAugment:
    """Time warp, frequency masks and time masks, configured as in the yaml `specaug:` block:

    SpecAugment(time_warp=5, freq_mask={"num": 2, "width": 27},
                time_mask={"num": 2, "width_ratio": 0.05}, fill="zero")
    """

    def __init__(self, time_warp=0, freq_mask=None, time_mask=None, fill="zero"):
        if fill not in FILLS:
            raise ConfigError(f"specaug: fill {fill!r}: expected one of {FILLS}")
        freq_mask, time_mask = freq_mask or {"num": 0}, time_mask or {"num": 0}
        check_keys("specaug: freq_mask", freq_mask, ("num", "width"), required=("num",))
        check_keys("specaug: time_mask", time_mask, ("num", "width", "width_ratio"), required=("num",))
        if freq_mask["num"] and "width" not in freq_mask:
            raise ConfigError("specaug: freq_mask: missing key 'width'")
        if time_mask["num"] and ("width" in time_mask) == ("width_ratio" in time_mask):
            raise ConfigError("specaug: time_mask: give exactly one of 'width' (frames) and 'width_ratio'")
        self.time_warp = int(time_warp)
        self.freq_num, self.freq_width = int(freq_mask["num"]), int(freq_mask.get("width", 0))
        self.time_num, self.time_width = int(time_mask["num"]), int(time_mask.get("width", 0))
        self.time_width_ratio = time_mask.get("width_ratio")
        self.fill = fill

    def __call__(self, feats, lengths=None, generator=None):
        """Augmented copy of `feats` ([T, F], or [B, T, F] with `lengths` of the valid frames)."""
        batch = feats if feats.dim() == 3 else feats[None]
        num, frames, bins = batch.shape
        lengths = torch.full((num,), frames) if lengths is None else torch.as_tensor(lengths).cpu().long()
        device = generator.device if generator is not None else "cpu"
        uniform = torch.rand(num, 2 + 2 * (self.freq_num + self.time_num), generator=generator, device=device).cpu()
        out = batch.clone()
        if self.time_warp:
            for b, length in enumerate(lengths.tolist()):
                out[b, :length] = self._warp(out[b, :length], uniform[b, :2])
        valid = (torch.arange(frames)[None, :] < lengths[:, None]).to(feats.device)
        draws = uniform[:, 2:].reshape(num, -1, 2)
        freq = _span_mask(draws[:, :self.freq_num], torch.full((num,), bins), torch.full((num,), self.freq_width), bins)
        time_widths = (torch.full((num,), self.time_width) if self.time_width_ratio is None
                       else (self.time_width_ratio * lengths).floor().long())
        time = _span_mask(draws[:, self.freq_num:], lengths, time_widths, frames)
        mask = (time.to(feats.device)[:, :, None] | freq.to(feats.device)[:, None, :]) & valid[:, :, None]
        if self.fill == "mean":
            value = (out * valid[:, :, None]).sum(dim=(1, 2)) / (lengths.to(feats.device) * bins).clamp(min=1)
        else:
            value = torch.zeros(num, dtype=out.dtype, device=feats.device)
        out = torch.where(mask, value[:, None, None].to(out.dtype), out)
        return out if feats.dim() == 3 else out[0]

    def _warp(self, x, uniform):
        """Warp one utterance [L, F]; unchanged when L <= 2 * time_warp."""
        length, window = x.shape[0], self.time_warp
        if length <= 2 * window:
            return x
        centre = int(_uniform_ints(uniform[0], window, length - window - 1))
        moved = int(_uniform_ints(uniform[1], max(1, centre - window), min(length - 1, centre + window)))
        if moved == centre:
            return x
        left = F.interpolate(x[:centre].T[None], size=moved, mode="linear", align_corners=True)
        right = F.interpolate(x[centre:].T[None], size=length - moved, mode="linear", align_corners=True)
        return torch.cat([left[0].T, right[0].T])
