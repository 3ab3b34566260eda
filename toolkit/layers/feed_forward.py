"""Position-wise feed-forward network of Transformer and Conformer layers."""
from torch import nn

from toolkit.utils.errors import ConfigError

ACTIVATIONS = {"relu": nn.ReLU, "swish": nn.SiLU, "gelu": nn.GELU}


def activation(name):
    """nn.Module for `name` (relu, swish, gelu)."""
    if name not in ACTIVATIONS:
        raise ConfigError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


class PositionwiseFeedForward(nn.Module):
    """w_2(dropout(act(w_1(x)))): size -> hidden_units -> size at every position."""

    def __init__(self, size, hidden_units, dropout_rate=0.0, activation_type="swish"):
        super().__init__()
        self.w_1 = nn.Linear(size, hidden_units)
        self.activation = activation(activation_type)
        self.dropout = nn.Dropout(dropout_rate)
        self.w_2 = nn.Linear(hidden_units, size)

    def forward(self, x):
        return self.w_2(self.dropout(self.activation(self.w_1(x))))
