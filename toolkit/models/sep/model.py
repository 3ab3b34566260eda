"""SepModel: a separator network trained with a permutation-invariant loss.

forward(speech_mix, speech_mix_lengths, speech_ref1, ..., speech_refN) -> (loss, stats, weight):
the loss is the batch mean of each utterance's best-permutation loss (PITLoss, with its
per-utterance threshold rule), stats hold the PIT-matched SI-SNR and its improvement over
the mixture (dB, means over the batch) and the weight is the number of utterances.
Padded samples (beyond speech_mix_lengths) never enter the loss.
"""
import torch
from torch import nn

from toolkit.losses.sep import PITLoss


class SepModel(nn.Module):
    def __init__(self, separator, num_spks=2, loss_kind="si_snr", loss_threshold=None):
        super().__init__()
        self.separator, self.num_spks = separator, num_spks
        self.criterion = PITLoss(kind=loss_kind, threshold=loss_threshold)
        self.si_snr = PITLoss(kind="si_snr")

    def separate(self, speech_mix):
        """[batch, samples] -> [batch, num_spks, samples]."""
        return self.separator(speech_mix)

    def forward(self, speech_mix, speech_mix_lengths, **refs):
        ref = torch.stack([refs[f"speech_ref{i + 1}"] for i in range(self.num_spks)], dim=1)
        est = self.separate(speech_mix)
        loss, per_utt, perm = self.criterion(est, ref, speech_mix_lengths)
        with torch.no_grad():
            if self.criterion.kind == "si_snr":
                si_snr = -per_utt
            else:
                si_snr = -self.si_snr(est.detach(), ref, speech_mix_lengths)[1]
            mix = speech_mix[:, None, :].expand_as(ref)
            si_snr_mix = -self.si_snr(mix, ref, speech_mix_lengths)[1]
        stats = {"loss": loss.item(), "si_snr": si_snr.mean().item(), "si_snri": (si_snr - si_snr_mix).mean().item()}
        return loss, stats, speech_mix.shape[0]
