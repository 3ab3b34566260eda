"""Learning-rate schedulers with one interface for the trainer.

The trainer calls `step_update(step)` after every optimizer step (`step` = optimizer steps
done so far) and `epoch_update(epoch, valid_metric)` after every epoch (`epoch` = epochs
done so far); a scheduler acts on the call that matches its unit and ignores the other.
Step schedules are defined by `lr(base, n)`, the lr of the n-th update (n >= 1): the
constructor sets the lr of update 1 and `step_update(k)` that of update k + 1, so with
`noam` the warmup_steps-th update runs at the peak lr (ESPnet's WarmupLR). Epoch
schedules count epochs the same way. `base` is the lr each param group had when the
scheduler was built (the peak lr).

`state_dict()` holds only what changes while training (hyperparameters come from the
config); `load_state_dict` puts the lrs back into the optimizer, so a resumed run
continues exactly, whichever of optimizer and scheduler is loaded first.
"""
import math

from toolkit.utils.errors import ConfigError


class Scheduler:
    """Base: sets each param group's lr to `lr(base, n)` for the next update or epoch."""

    unit = "step"
    state_keys = ("base_lrs", "done")

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self.done = 0  # steps or epochs done
        self.should_restore_best = False
        self.apply()

    def lr(self, base, n):
        return base

    def apply(self):
        """Write the current lrs into the optimizer (also after loading optimizer state)."""
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr(base, self.done + 1)

    def step_update(self, step):
        if self.unit == "step":
            self.done = step
            self.apply()

    def epoch_update(self, epoch, valid_metric=None):
        if self.unit == "epoch":
            self.done = epoch
            self.apply()

    def state_dict(self):
        return {key: getattr(self, key) for key in self.state_keys}

    def load_state_dict(self, state):
        for key in self.state_keys:
            setattr(self, key, state[key])
        self.apply()


def _check(condition, message):
    if not condition:
        raise ConfigError(message)


class NoamScheduler(Scheduler):
    """Transformer warmup: lr = peak * min(n / warmup_steps, sqrt(warmup_steps / n))."""

    def __init__(self, optimizer, warmup_steps=25000):
        _check(warmup_steps >= 1, f"noam: warmup_steps must be >= 1, got {warmup_steps}")
        self.warmup_steps = warmup_steps
        super().__init__(optimizer)

    def lr(self, base, n):
        return base * min(n / self.warmup_steps, math.sqrt(self.warmup_steps / n))


class WarmupDecayScheduler(Scheduler):
    """Linear warmup to the peak over warmup_steps, then a decay `shape` to min_lr at
    total_steps; min_lr after that. shape(x) goes from 1 (x=0) to 0 (x=1)."""

    def __init__(self, optimizer, total_steps, warmup_steps=0, min_lr=0.0):
        name = type(self).__name__
        _check(0 <= warmup_steps < total_steps, f"{name}: need 0 <= warmup_steps < total_steps, "
               f"got {warmup_steps} and {total_steps}")
        _check(min_lr >= 0, f"{name}: min_lr must be >= 0, got {min_lr}")
        self.total_steps = total_steps
        self.warmup_steps = warmup_steps
        self.min_lr = min_lr
        super().__init__(optimizer)

    def lr(self, base, n):
        if n <= self.warmup_steps:
            return base * n / self.warmup_steps
        x = min(1.0, (n - self.warmup_steps) / (self.total_steps - self.warmup_steps))
        return self.min_lr + (base - self.min_lr) * self.shape(x)


class WarmupLinearScheduler(WarmupDecayScheduler):
    """Linear warmup, then linear decay to min_lr at total_steps."""

    @staticmethod
    def shape(x):
        return 1.0 - x


class CosineScheduler(WarmupDecayScheduler):
    """Linear warmup, then half a cosine down to min_lr at total_steps."""

    @staticmethod
    def shape(x):
        return 0.5 * (1.0 + math.cos(math.pi * x))


class ExponentialScheduler(Scheduler):
    """lr = max(peak * gamma**k, min_lr) after k epochs (unit "epoch") or steps ("step")."""

    def __init__(self, optimizer, gamma, unit="epoch", min_lr=0.0):
        _check(0 < gamma <= 1, f"exponential: gamma must be in (0, 1], got {gamma}")
        _check(unit in ("epoch", "step"), f"exponential: unit must be epoch or step, got {unit}")
        self.gamma = gamma
        self.unit = unit
        self.min_lr = min_lr
        super().__init__(optimizer)

    def lr(self, base, n):
        return max(base * self.gamma ** (n - 1), self.min_lr)


class PlateauHalvingScheduler(Scheduler):
    """ClearerVoice-Studio's rule: after `patience` epochs without improvement of the
    validation metric, multiply the lr by `factor` (floored at min_lr) and ask the
    trainer to reload the best model (`should_restore_best`).

    An epoch improves when its metric beats `best` by more than threshold * |best|
    (mode "min": lower is better; "max": higher). `best` is the best metric seen: the
    epoch that reaches it sets `is_best`, and the trainer keeps that model as its best
    checkpoint. Halving never touches `best` (ClearerVoice lets it drift to the worse
    current loss). A metric that beats `best` by less than the threshold still becomes
    `best` but counts as an epoch without improvement. Nothing is restored before a first
    finite metric, nor halved or restored once the lr is at min_lr; stopping early is the
    trainer's decision.
    Act on `should_restore_best` before saving the epoch's checkpoint.
    """

    unit = "epoch"
    state_keys = ("base_lrs", "done", "lrs", "best", "bad_epochs", "is_best", "should_restore_best")

    def __init__(self, optimizer, patience=3, factor=0.5, threshold=0.0, min_lr=0.0, mode="min"):
        _check(patience >= 1, f"plateau_halving: patience must be >= 1, got {patience}")
        _check(0 < factor < 1, f"plateau_halving: factor must be in (0, 1), got {factor}")
        _check(threshold >= 0, f"plateau_halving: threshold must be >= 0, got {threshold}")
        _check(mode in ("min", "max"), f"plateau_halving: mode must be min or max, got {mode}")
        self.patience = patience
        self.factor = factor
        self.threshold = threshold
        self.min_lr = min_lr
        self.sign = 1.0 if mode == "min" else -1.0
        self.lrs = [group["lr"] for group in optimizer.param_groups]
        self.best = math.inf if mode == "min" else -math.inf
        self.bad_epochs = 0
        self.is_best = False
        super().__init__(optimizer)

    def apply(self):
        for group, lr in zip(self.optimizer.param_groups, self.lrs):
            group["lr"] = lr

    def epoch_update(self, epoch, valid_metric=None):
        if valid_metric is None:
            raise ValueError("plateau_halving needs the validation metric at each epoch end")
        self.done = epoch
        valid_metric = float(valid_metric)
        metric, best = self.sign * valid_metric, self.sign * self.best  # lower is better
        self.is_best = metric < best  # False for NaN
        improved = self.is_best and (best == math.inf or best - metric > self.threshold * abs(best))
        if self.is_best:
            self.best = valid_metric
        self.bad_epochs = 0 if improved else self.bad_epochs + 1
        self.should_restore_best = False
        if self.bad_epochs >= self.patience:
            self.bad_epochs = 0
            lrs = [max(lr * self.factor, self.min_lr) for lr in self.lrs]
            self.should_restore_best = lrs != self.lrs and math.isfinite(self.best)
            self.lrs = lrs
        self.apply()


SCHEDULERS = {
    "none": Scheduler,
    "noam": NoamScheduler,
    "warmuplinear": WarmupLinearScheduler,
    "cosine": CosineScheduler,
    "exponential": ExponentialScheduler,
    "plateau_halving": PlateauHalvingScheduler,
}


def build_scheduler(name, optimizer, **conf):
    """Return scheduler `name` over `optimizer`, whose current lr is the peak lr."""
    if name not in SCHEDULERS:
        raise ConfigError(f"unknown scheduler '{name}': choose one of {sorted(SCHEDULERS)}")
    try:
        return SCHEDULERS[name](optimizer, **conf)
    except TypeError as err:
        raise ConfigError(f"scheduler {name}: {err}") from None
