"""LoRA: low-rank adapters on chosen nn.Linear layers (Hu et al. 2021, "LoRA").

A wrapped layer computes `x W^T + b + scale * dropout(x) A^T B^T` with A (rank x in),
B (out x rank) and scale = alpha / rank. B starts at zero, so a freshly wrapped model
computes exactly what the base model does. `LoRALinear` keeps the base layer's
parameter names (`weight`, `bias`) and adds `lora_A`, `lora_B`: a base checkpoint
loads into the wrapped model as is (only the lora_* keys are missing), and the
wrapped model's state dict saves and loads like any other. `merge_lora` folds
W + scale * B A back into plain nn.Linear layers, giving the base model's parameter
layout for export.
"""
import logging
import math
import re

import torch
from torch import nn
from torch.nn import functional as F

from toolkit.utils.errors import ConfigError


class LoRALinear(nn.Module):
    """An nn.Linear (sharing its weight and bias) plus a trainable low-rank update."""

    def __init__(self, base, rank, alpha, dropout=0.0):
        super().__init__()
        self.in_features, self.out_features = base.in_features, base.out_features
        self.weight = base.weight
        self.bias = base.bias
        factory = {"device": base.weight.device, "dtype": base.weight.dtype}
        self.lora_A = nn.Parameter(torch.empty(rank, self.in_features, **factory))
        self.lora_B = nn.Parameter(torch.zeros(self.out_features, rank, **factory))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))  # as nn.Linear initialises a weight
        self.scale = alpha / rank
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x):
        update = F.linear(F.linear(self.dropout(x), self.lora_A), self.lora_B)
        return F.linear(x, self.weight, self.bias) + self.scale * update

    def merged(self):
        """A plain nn.Linear computing W + scale * B A (what this layer computes in eval mode)."""
        linear = nn.Linear(self.in_features, self.out_features, bias=self.bias is not None,
                           device=self.weight.device, dtype=self.weight.dtype)
        with torch.no_grad():
            linear.weight.copy_(self.weight + self.scale * (self.lora_B @ self.lora_A))
            if self.bias is not None:
                linear.bias.copy_(self.bias)
        return linear

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"rank={self.lora_A.shape[0]}, scale={self.scale:g}")


def _matches(name, target, pattern):
    """`target` is a module-name suffix on a dot boundary, or a regex matching the full name."""
    return (name == target or name.endswith("." + target)
            or (pattern is not None and pattern.fullmatch(name) is not None))


def _compile(target):
    try:
        return re.compile(target)
    except re.error:
        return None


def apply_lora(model, targets, rank=8, alpha=16.0, dropout=0.0):
    """Wrap the nn.Linear layers of `model` named by `targets` in LoRALinear; freeze the rest.

    targets: a list or comma-separated string; each entry is a module-name suffix
    (`q_proj`, `attn.linear_q`) or a regex matching whole names (`.*\\.(q|v)_proj`).
    Every parameter other than lora_A / lora_B gets requires_grad False; unfreeze
    others afterwards if they should train too. Returns the wrapped module names.
    An entry matching no nn.Linear is a ConfigError.
    """
    if rank < 1:
        raise ConfigError(f"lora rank must be at least 1, got {rank}")
    if isinstance(targets, str):
        targets = [t.strip() for t in targets.split(",") if t.strip()]
    if not targets:
        raise ConfigError("lora_targets is empty: name the nn.Linear layers to adapt, e.g. q_proj,v_proj")
    # exactly nn.Linear: a subclass such as nn.MultiheadAttention's out_proj may be used
    # without calling its forward, which would leave the adapter out silently
    linears = [name for name, module in model.named_modules()
               if name and type(module) is nn.Linear]
    chosen = set()
    for target in targets:
        pattern = _compile(target)
        hits = [name for name in linears if _matches(name, target, pattern)]
        if not hits:
            raise ConfigError(f"lora target {target!r} matches no nn.Linear layer; "
                              f"the layers are named like: {', '.join(linears[:8])}")
        chosen.update(hits)
    for param in model.parameters():
        param.requires_grad = False
    for name in sorted(chosen):
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        setattr(parent, child, LoRALinear(getattr(parent, child), rank, alpha, dropout))
    logging.info("LoRA rank %d alpha %g on %d linear layer(s): %s", rank, alpha, len(chosen),
                 ", ".join(sorted(chosen)))
    return sorted(chosen)


def merge_lora(model):
    """Replace every LoRALinear in `model` by its merged nn.Linear (in place); return `model`."""
    names = [name for name, module in model.named_modules() if isinstance(module, LoRALinear)]
    for name in names:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        setattr(parent, child, getattr(parent, child).merged())
    return model
