"""Optimizers by name, batch-size lr scaling, and a container for several optimizers (GAN).

Weight decay follows each optimizer's own rule: `adamw` decays weights decoupled from the
gradient (Loshchilov & Hutter); `adam` and `sgd` add it to the gradient as L2 (torch's
`weight_decay`). With `no_decay_1d=True` biases, norm gains and other tensors of at most
one dimension get no decay: the optimizer then holds two param groups, named "decay" and
"no_decay" (the name is a key of each group).
"""
import logging
import math

import torch

from toolkit.utils.errors import ConfigError

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}
LR_SCALE_RULES = ("none", "linear", "sqrt")


def build_optimizer(name, params, lr, weight_decay=0.0, no_decay_1d=False, **conf):
    """Return the torch optimizer `name` over the trainable tensors of `params`.

    params: a Module or an iterable of tensors; frozen tensors (requires_grad False) are
    left out and counted in the log. conf: the optimizer's other options, e.g. `betas`,
    `eps`, `amsgrad` (adam, adamw) or `momentum`, `nesterov`, `dampening` (sgd).
    An unknown name or option raises ConfigError.
    """
    if name not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer '{name}': choose one of {sorted(OPTIMIZERS)}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)):
        raise ConfigError(f"optimizer {name}: lr must be a number, got {lr!r} "
                          "(yaml reads 1e-3 as text: write 1.0e-3)")
    if isinstance(params, torch.nn.Module):
        params = params.parameters()
    params = list(params)
    trainable = [p for p in params if p.requires_grad]
    if len(trainable) < len(params):
        logging.info("optimizer %s: %d frozen tensors left out", name, len(params) - len(trainable))
    if not trainable:
        raise ConfigError(f"optimizer {name}: no trainable parameters")
    if no_decay_1d:
        groups = [
            {"name": "decay", "params": [p for p in trainable if p.ndim > 1]},
            {"name": "no_decay", "params": [p for p in trainable if p.ndim <= 1],
             "weight_decay": 0.0},
        ]
        groups = [g for g in groups if g["params"]]
    else:
        groups = [{"name": "all", "params": trainable}]
    if "betas" in conf:
        conf["betas"] = tuple(conf["betas"])  # yaml gives a list
    try:
        return OPTIMIZERS[name](groups, lr=lr, weight_decay=weight_decay, **conf)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"optimizer {name}: {err}") from None


def scaled_lr(lr, batch_size, ref_batch_size, rule="none"):
    """Return `lr` (tuned at `ref_batch_size`) scaled to `batch_size` by `rule`.

    batch_size is the global batch: per-GPU batch * world_size * accum_grad.
    none: unchanged. linear: lr * batch/ref, the rule for SGD-like optimizers (Goyal et al.
    2017, "Accurate, Large Minibatch SGD"). sqrt: lr * sqrt(batch/ref), for Adam-like ones,
    whose update size scales with the gradient noise, not its mean.
    The trainer should log the returned (effective) lr.
    """
    if rule not in LR_SCALE_RULES:
        raise ConfigError(f"unknown lr_scale_rule '{rule}': choose one of {list(LR_SCALE_RULES)}")
    if rule == "none":
        return lr
    if not (batch_size > 0 and ref_batch_size and ref_batch_size > 0):
        raise ConfigError(
            f"lr_scale_rule {rule} needs positive batch sizes, got batch_size={batch_size} "
            f"ref_batch_size={ref_batch_size}")
    ratio = batch_size / ref_batch_size
    return lr * (ratio if rule == "linear" else math.sqrt(ratio))


class OptimizerSet:
    """Named optimizers, each with an optional scheduler, updated and saved together.

    A GAN task adds "generator" and "discriminator"; a plain task adds one. The trainer
    calls step_update/epoch_update once for the set and saves `state_dict()` in its
    checkpoint; `load_state_dict` requires the same names.
    """

    def __init__(self):
        self.optimizers = {}
        self.schedulers = {}

    def add(self, name, optimizer, scheduler=None):
        if name in self.optimizers:
            raise ConfigError(f"optimizer '{name}' added twice")
        self.optimizers[name] = optimizer
        if scheduler is not None:
            self.schedulers[name] = scheduler

    def __getitem__(self, name):
        return self.optimizers[name]

    def step_update(self, step):
        for scheduler in self.schedulers.values():
            scheduler.step_update(step)

    def epoch_update(self, epoch, valid_metric=None):
        for scheduler in self.schedulers.values():
            scheduler.epoch_update(epoch, valid_metric)

    @property
    def should_restore_best(self):
        """True when any scheduler asks the trainer to reload the best model."""
        return any(s.should_restore_best for s in self.schedulers.values())

    def lrs(self):
        """{name: [lr of each param group]}, for logging."""
        return {n: [g["lr"] for g in o.param_groups] for n, o in self.optimizers.items()}

    def state_dict(self):
        return {
            "optimizers": {n: o.state_dict() for n, o in self.optimizers.items()},
            "schedulers": {n: s.state_dict() for n, s in self.schedulers.items()},
        }

    def load_state_dict(self, state):
        for key, mine in (("optimizers", self.optimizers), ("schedulers", self.schedulers)):
            if set(state[key]) != set(mine):
                raise ConfigError(
                    f"checkpoint {key} {sorted(state[key])} do not match "
                    f"this model's {sorted(mine)}")
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
        for name, scheduler in self.schedulers.items():
            scheduler.load_state_dict(state["schedulers"][name])
