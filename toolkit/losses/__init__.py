"""Training losses: CTC (+ smoothing), label-smoothed cross entropy, ..."""
from toolkit.losses.ctc import ctc_loss, uniform_smoothing_loss
from toolkit.losses.label_smoothing import LabelSmoothingLoss

__all__ = ["LabelSmoothingLoss", "ctc_loss", "uniform_smoothing_loss"]
