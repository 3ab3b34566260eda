"""LR schedulers: curves at key steps, exact resume, plateau halving with best restore."""
import copy
import math

import pytest
import torch

from toolkit.train.optimizers import build_optimizer
from toolkit.train.schedulers import SCHEDULERS, build_scheduler
from toolkit.utils.errors import ConfigError

PEAK = 1e-3


def tiny_model(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.LayerNorm(8), torch.nn.Linear(8, 2))


def make(name, lr=PEAK, **conf):
    optimizer = build_optimizer("adamw", tiny_model(), lr=lr, weight_decay=0.01, no_decay_1d=True)
    return optimizer, build_scheduler(name, optimizer, **conf)


def lr_of_update(optimizer, scheduler, n):
    """The lr the n-th optimizer update runs at (the trainer reported n - 1 steps done)."""
    scheduler.step_update(n - 1)
    lrs = {group["lr"] for group in optimizer.param_groups}
    assert len(lrs) == 1  # both weight-decay groups follow the schedule
    return lrs.pop()


def test_noam_matches_espnet_warmuplr_formula():
    optimizer, scheduler = make("noam", warmup_steps=100)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(PEAK / 100)  # update 1, before any step
    curve = [lr_of_update(optimizer, scheduler, n) for n in range(1, 2001)]
    espnet = [PEAK * 100 ** 0.5 * min(n ** -0.5, n * 100 ** -1.5) for n in range(1, 2001)]
    assert curve == pytest.approx(espnet, rel=1e-12)
    assert max(curve) == pytest.approx(PEAK) and curve.index(max(curve)) + 1 == 100
    assert curve[50 - 1] == pytest.approx(PEAK / 2)
    assert curve[400 - 1] == pytest.approx(PEAK / 2)  # decays as step^-0.5
    assert curve[1600 - 1] == pytest.approx(PEAK / 4)
    slope = math.log(curve[1999] / curve[199]) / math.log(2000 / 200)
    assert slope == pytest.approx(-0.5)


@pytest.mark.parametrize("min_lr", [0.0, 1e-5])
def test_warmuplinear_curve(min_lr):
    optimizer, scheduler = make("warmuplinear", warmup_steps=10, total_steps=110, min_lr=min_lr)
    lr = lambda n: lr_of_update(optimizer, scheduler, n)  # noqa: E731
    assert lr(1) == pytest.approx(PEAK / 10)
    assert lr(5) == pytest.approx(PEAK / 2)
    assert lr(10) == pytest.approx(PEAK)
    assert lr(60) == pytest.approx((PEAK + min_lr) / 2)
    assert lr(85) == pytest.approx(min_lr + (PEAK - min_lr) / 4)
    assert lr(110) == pytest.approx(min_lr, abs=1e-15)
    assert lr(500) == pytest.approx(min_lr, abs=1e-15)


@pytest.mark.parametrize("min_lr", [0.0, 1e-5])
def test_cosine_curve(min_lr):
    optimizer, scheduler = make("cosine", warmup_steps=10, total_steps=110, min_lr=min_lr)
    curve = [lr_of_update(optimizer, scheduler, n) for n in range(1, 121)]
    assert curve[5 - 1] == pytest.approx(PEAK / 2)
    assert curve[10 - 1] == pytest.approx(PEAK)
    quarter = min_lr + (PEAK - min_lr) * (1 + math.cos(math.pi / 4)) / 2
    assert curve[35 - 1] == pytest.approx(quarter)
    assert curve[60 - 1] == pytest.approx((PEAK + min_lr) / 2)
    assert curve[110 - 1] == pytest.approx(min_lr, abs=1e-15)
    assert curve[120 - 1] == pytest.approx(min_lr, abs=1e-15)
    decay = curve[9:110]
    assert all(a > b for a, b in zip(decay, decay[1:]))


def test_cosine_without_warmup_starts_at_peak():
    optimizer, scheduler = make("cosine", total_steps=100)
    first = PEAK * (1 + math.cos(math.pi / 100)) / 2
    assert optimizer.param_groups[0]["lr"] == pytest.approx(first)
    assert lr_of_update(optimizer, scheduler, 100) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("unit", ["epoch", "step"])
def test_exponential_matches_torch_exponentiallr(unit):
    optimizer, scheduler = make("exponential", gamma=0.9, unit=unit)
    reference_opt = torch.optim.SGD(tiny_model().parameters(), lr=PEAK)
    reference = torch.optim.lr_scheduler.ExponentialLR(reference_opt, gamma=0.9)
    for k in range(1, 20):
        reference_opt.step()
        reference.step()
        if unit == "epoch":
            scheduler.step_update(k * 100)  # ignored: this one counts epochs
            scheduler.epoch_update(k)
        else:
            scheduler.epoch_update(k, valid_metric=1.0)  # ignored: this one counts steps
            scheduler.step_update(k)
        expected = reference.get_last_lr()[0]
        assert optimizer.param_groups[0]["lr"] == pytest.approx(expected, rel=1e-12)


def test_exponential_min_lr_floor():
    optimizer, scheduler = make("exponential", gamma=0.5, min_lr=2e-4)
    scheduler.epoch_update(2)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(2.5e-4)
    scheduler.epoch_update(3)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(2e-4)


def test_none_keeps_the_lr():
    optimizer, scheduler = make("none")
    scheduler.step_update(1000)
    scheduler.epoch_update(5, valid_metric=3.0)
    assert [g["lr"] for g in optimizer.param_groups] == [PEAK, PEAK]
    assert not scheduler.should_restore_best


def epoch_end(optimizer, scheduler, epoch, loss):
    scheduler.epoch_update(epoch, loss)
    return optimizer.param_groups[0]["lr"]


def test_plateau_halves_restores_and_best_never_drifts():
    optimizer, scheduler = make("plateau_halving", patience=2, factor=0.5)
    losses = [1.0, 0.8, 0.85, 0.9, 0.82, 0.81, 0.79, 0.8]
    expected = [  # (lr after the epoch, is_best, should_restore_best)
        (1e-3, True, False), (1e-3, True, False), (1e-3, False, False), (5e-4, False, True),
        (5e-4, False, False), (2.5e-4, False, True), (2.5e-4, True, False), (2.5e-4, False, False),
    ]
    for epoch, (loss, (lr, is_best, restore)) in enumerate(zip(losses, expected), start=1):
        assert epoch_end(optimizer, scheduler, epoch, loss) == pytest.approx(lr)
        assert (scheduler.is_best, scheduler.should_restore_best) == (is_best, restore)
        # best is the lowest loss seen, i.e. the model the trainer saved as best; at the
        # halvings (0.9, then 0.81) ClearerVoice's best drifts to that worse loss.
        assert scheduler.best == min(losses[:epoch])
    assert scheduler.best == 0.79


def test_plateau_small_improvement_is_best_but_not_progress():
    optimizer, scheduler = make("plateau_halving", patience=2, threshold=0.1)
    epoch_end(optimizer, scheduler, 1, 1.0)
    epoch_end(optimizer, scheduler, 2, 0.95)  # better by less than 10 %
    assert scheduler.is_best and scheduler.best == 0.95 and scheduler.bad_epochs == 1
    assert epoch_end(optimizer, scheduler, 3, 0.94) == pytest.approx(5e-4)
    assert scheduler.should_restore_best and scheduler.best == 0.94
    epoch_end(optimizer, scheduler, 4, 0.8)  # better by more than 10 %
    assert scheduler.is_best and scheduler.bad_epochs == 0


def test_plateau_threshold_is_relative_to_the_magnitude_of_negative_losses():
    """SI-SNR losses are negative: -9.95 is worse than -10, -10.05 better by only 0.5 %."""
    optimizer, scheduler = make("plateau_halving", patience=5, threshold=0.01)
    epoch_end(optimizer, scheduler, 1, -10.0)
    epoch_end(optimizer, scheduler, 2, -9.95)
    assert not scheduler.is_best and scheduler.best == -10.0 and scheduler.bad_epochs == 1
    epoch_end(optimizer, scheduler, 3, -10.05)
    assert scheduler.is_best and scheduler.bad_epochs == 2
    epoch_end(optimizer, scheduler, 4, -11.0)
    assert scheduler.is_best and scheduler.bad_epochs == 0


def test_plateau_mode_max_and_nan():
    optimizer, scheduler = make("plateau_halving", patience=2, mode="max")
    epoch_end(optimizer, scheduler, 1, 10.0)
    epoch_end(optimizer, scheduler, 2, 12.0)
    assert scheduler.is_best and scheduler.best == 12.0
    epoch_end(optimizer, scheduler, 3, float("nan"))
    assert not scheduler.is_best and scheduler.best == 12.0
    assert epoch_end(optimizer, scheduler, 4, 11.0) == pytest.approx(5e-4)
    assert scheduler.should_restore_best
    with pytest.raises(ValueError, match="needs the validation metric"):
        scheduler.epoch_update(5)


def test_plateau_halves_without_restoring_before_any_finite_metric():
    optimizer, scheduler = make("plateau_halving", patience=1)
    assert epoch_end(optimizer, scheduler, 1, float("nan")) == pytest.approx(5e-4)
    assert not scheduler.should_restore_best and scheduler.best == math.inf


def test_plateau_min_lr_floor_stops_halving_and_restoring():
    optimizer, scheduler = make("plateau_halving", patience=1, min_lr=4e-4)
    epoch_end(optimizer, scheduler, 1, 1.0)
    assert epoch_end(optimizer, scheduler, 2, 1.0) == pytest.approx(5e-4)
    assert epoch_end(optimizer, scheduler, 3, 1.0) == pytest.approx(4e-4)
    assert scheduler.should_restore_best
    assert epoch_end(optimizer, scheduler, 4, 1.0) == pytest.approx(4e-4)
    assert not scheduler.should_restore_best


CONFS = {
    "none": {},
    "noam": {"warmup_steps": 8},
    "warmuplinear": {"warmup_steps": 8, "total_steps": 50, "min_lr": 1e-5},
    "cosine": {"warmup_steps": 8, "total_steps": 50, "min_lr": 1e-5},
    "exponential": {"gamma": 0.7},
    "plateau_halving": {"patience": 2},
}
LOSSES = [1.0, 0.8, 0.9, 0.95, 0.7, 0.75]  # one per epoch of 10 steps; resume after 35


def batch(step):
    gen = torch.Generator().manual_seed(step)
    return torch.randn(16, 4, generator=gen), torch.randn(16, 2, generator=gen)


def train(model, optimizer, scheduler, first_step, last_step, best):
    """A trainer's loop: step updates, epoch ends, best-model keeping and restoring."""
    lrs = []
    for step in range(first_step, last_step):
        lrs.append(optimizer.param_groups[0]["lr"])
        x, y = batch(step)
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
        scheduler.step_update(step + 1)
        if (step + 1) % 10 == 0:
            scheduler.epoch_update((step + 1) // 10, LOSSES[step // 10])
            if scheduler.should_restore_best:
                model.load_state_dict(best)
            elif getattr(scheduler, "is_best", False):  # only plateau_halving keeps a best
                best = copy.deepcopy(model.state_dict())
    return lrs, best


@pytest.mark.parametrize("scheduler_first", [True, False])
@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_resume_mid_schedule_continues_identically(tmp_path, name, scheduler_first):
    assert set(CONFS) == set(SCHEDULERS)
    model = tiny_model()
    optimizer = build_optimizer("adamw", model, lr=PEAK, weight_decay=0.01, no_decay_1d=True)
    scheduler = build_scheduler(name, optimizer, **CONFS[name])
    _, best = train(model, optimizer, scheduler, 0, 35, best=None)
    torch.save({"model": model.state_dict(), "best": best, "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict()}, tmp_path / "ckpt.pth")
    lrs, _ = train(model, optimizer, scheduler, 35, 60, best)

    model2 = tiny_model(seed=1)
    optimizer2 = build_optimizer("adamw", model2, lr=PEAK, weight_decay=0.01, no_decay_1d=True)
    scheduler2 = build_scheduler(name, optimizer2, **CONFS[name])
    ckpt = torch.load(tmp_path / "ckpt.pth", weights_only=True)
    model2.load_state_dict(ckpt["model"])
    loads = [lambda: scheduler2.load_state_dict(ckpt["scheduler"]),
             lambda: optimizer2.load_state_dict(ckpt["optimizer"])]
    for load in loads if scheduler_first else loads[::-1]:
        load()
    lrs2, _ = train(model2, optimizer2, scheduler2, 35, 60, ckpt["best"])

    assert lrs2 == lrs
    assert len(set(lrs)) > 1 or name == "none"
    assert scheduler2.state_dict() == scheduler.state_dict()
    for p, p2 in zip(model.parameters(), model2.parameters()):
        assert torch.equal(p, p2)
    state, state2 = optimizer.state_dict()["state"], optimizer2.state_dict()["state"]
    for key in state:
        for field in ("exp_avg", "exp_avg_sq", "step"):
            assert torch.equal(state[key][field], state2[key][field])


@pytest.mark.parametrize("name, conf, message", [
    ("linear", {}, "unknown scheduler 'linear'"),
    ("noam", {"warmup": 10}, "warmup"),
    ("noam", {"warmup_steps": 0}, "warmup_steps must be >= 1"),
    ("cosine", {"warmup_steps": 10}, "total_steps"),
    ("warmuplinear", {"warmup_steps": 10, "total_steps": 10}, "warmup_steps < total_steps"),
    ("exponential", {"gamma": 0.9, "unit": "batch"}, "unit must be epoch or step"),
    ("plateau_halving", {"factor": 2}, r"factor must be in \(0, 1\)"),
])
def test_bad_scheduler_config_is_a_config_error(name, conf, message):
    optimizer = build_optimizer("adam", tiny_model(), lr=PEAK)
    with pytest.raises(ConfigError, match=message):
        build_scheduler(name, optimizer, **conf)
