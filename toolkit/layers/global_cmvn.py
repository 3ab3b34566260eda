"""Global CMVN inside a model: (x - mean) * scale from Kaldi-layout stats, kept as buffers
so a checkpoint carries its normalisation."""
import kaldiio
import torch
from torch import nn

from toolkit.features.cmvn import cmvn_mean_scale
from toolkit.utils.errors import DataError


class GlobalCMVN(nn.Module):
    """Normalise features [..., D] like toolkit.features.cmvn.apply_cmvn with the same stats."""

    def __init__(self, stats, norm_vars=True):
        super().__init__()
        mean, scale = cmvn_mean_scale(stats, norm_vars)
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))

    @classmethod
    def from_file(cls, path, norm_vars=True):
        """From a stats matrix written by compute_cmvn_stats (Kaldi's cmvn.ark)."""
        try:
            stats = kaldiio.load_mat(path)
        except Exception as err:  # kaldiio raises several types for unreadable files
            raise DataError(f"{path}: cannot read CMVN stats ({err}); make them with "
                            f"python -m toolkit.bin.compute_cmvn_stats") from None
        return cls(stats, norm_vars)

    @property
    def dim(self):
        return self.mean.shape[0]

    def forward(self, x):
        return (x - self.mean) * self.scale
