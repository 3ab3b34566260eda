"""Optimizers by name: weight-decay groups, decoupled vs L2 decay, lr scaling, OptimizerSet."""
import copy

import pytest
import torch

from toolkit.train.optimizers import OptimizerSet, build_optimizer, scaled_lr
from toolkit.train.schedulers import build_scheduler
from toolkit.utils.errors import ConfigError


def tiny_model(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.LayerNorm(8), torch.nn.Linear(8, 2))


def batch(step):
    gen = torch.Generator().manual_seed(step)
    return torch.randn(16, 4, generator=gen), torch.randn(16, 2, generator=gen)


def train_step(model, optimizer, step):
    x, y = batch(step)
    optimizer.zero_grad()
    torch.nn.functional.mse_loss(model(x), y).backward()
    optimizer.step()


def zero_grad_step(model, optimizer):
    """One step with all-zero gradients: only weight decay moves the parameters."""
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    optimizer.step()


def test_no_decay_1d_puts_biases_and_norms_in_their_own_group():
    model = tiny_model()
    optimizer = build_optimizer("adamw", model, lr=1e-3, weight_decay=0.1, no_decay_1d=True)
    groups = {g["name"]: g for g in optimizer.param_groups}
    assert set(groups) == {"decay", "no_decay"}
    assert groups["decay"]["weight_decay"] == 0.1 and groups["no_decay"]["weight_decay"] == 0.0
    names = {id(p): n for n, p in model.named_parameters()}
    assert sorted(names[id(p)] for p in groups["decay"]["params"]) == ["0.weight", "2.weight"]
    assert sorted(names[id(p)] for p in groups["no_decay"]["params"]) == [
        "0.bias", "1.bias", "1.weight", "2.bias"]


def test_adamw_decay_is_decoupled_and_skips_1d():
    model = tiny_model()
    before = copy.deepcopy(model.state_dict())
    optimizer = build_optimizer("adamw", model, lr=0.01, weight_decay=0.5, no_decay_1d=True)
    zero_grad_step(model, optimizer)
    for name, p in model.named_parameters():
        expected = before[name] * (1 - 0.01 * 0.5) if p.ndim > 1 else before[name]
        torch.testing.assert_close(p.detach(), expected, rtol=0, atol=1e-7)


def test_adam_decay_is_l2_through_the_gradient():
    """Adam normalises the L2 gradient wd*p: the first step moves every weight by ~lr."""
    model = tiny_model()
    before = copy.deepcopy(model.state_dict())
    optimizer = build_optimizer("adam", model, lr=0.01, weight_decay=0.5)
    zero_grad_step(model, optimizer)
    for name, p in model.named_parameters():
        moved = before[name] - p.detach()
        torch.testing.assert_close(moved, 0.01 * torch.sign(before[name]), rtol=1e-3, atol=1e-6)


def test_sgd_options_and_l2_decay():
    model = tiny_model()
    before = copy.deepcopy(model.state_dict())
    optimizer = build_optimizer("sgd", model, lr=0.1, weight_decay=0.01,
                                momentum=0.9, nesterov=True)
    group = optimizer.param_groups[0]
    assert (group["momentum"], group["nesterov"], group["name"]) == (0.9, True, "all")
    zero_grad_step(model, optimizer)
    # Nesterov's first step with gradient g = wd*p moves p by lr * (1 + momentum) * g.
    for name, p in model.named_parameters():
        torch.testing.assert_close(p.detach(), before[name] * (1 - 0.1 * 1.9 * 0.01))


def test_frozen_parameters_are_left_out():
    model = tiny_model()
    model[0].requires_grad_(False)
    optimizer = build_optimizer("adam", model, lr=1e-3)
    kept = {id(p) for g in optimizer.param_groups for p in g["params"]}
    assert kept == {id(p) for p in list(model[1].parameters()) + list(model[2].parameters())}


def test_yaml_betas_list_is_accepted():
    optimizer = build_optimizer("adam", tiny_model(), lr=1e-3, betas=[0.8, 0.99], eps=1e-9)
    assert optimizer.param_groups[0]["betas"] == (0.8, 0.99)
    assert optimizer.param_groups[0]["eps"] == 1e-9


@pytest.mark.parametrize("name, conf, message", [
    ("adagrad", {}, "unknown optimizer 'adagrad'"),
    ("adam", {"momentum": 0.9}, "momentum"),
    ("sgd", {"nesterov": True}, "Nesterov"),
    ("adam", {"lr": "1e-3"}, "lr must be a number, got '1e-3'"),
])
def test_bad_optimizer_config_is_a_config_error(name, conf, message):
    conf = {"lr": 1e-3, **conf}
    with pytest.raises(ConfigError, match=message):
        build_optimizer(name, tiny_model(), **conf)


def test_lr_scale_rules():
    assert scaled_lr(0.1, 256, 32, "none") == 0.1
    assert scaled_lr(0.1, 64, 32, "linear") == pytest.approx(0.2)
    assert scaled_lr(1e-3, 128, 32, "sqrt") == pytest.approx(2e-3)
    assert scaled_lr(1e-3, 8, 32, "sqrt") == pytest.approx(5e-4)
    per_gpu, world_size, accum_grad = 16, 4, 2  # global batch 128 against a reference 32
    assert scaled_lr(0.1, per_gpu * world_size * accum_grad, 32, "linear") == pytest.approx(0.4)
    assert scaled_lr(0.1, 128, None, "none") == 0.1
    with pytest.raises(ConfigError, match="unknown lr_scale_rule 'cubic'"):
        scaled_lr(0.1, 64, 32, "cubic")
    with pytest.raises(ConfigError, match="ref_batch_size=None"):
        scaled_lr(0.1, 64, None, "linear")


def gan_set(seed):
    """Generator (adamw + noam) and discriminator (sgd + plateau halving)."""
    gen, disc = tiny_model(seed), tiny_model(seed + 1)
    opts = OptimizerSet()
    g_opt = build_optimizer("adamw", gen, lr=2e-3, weight_decay=0.01, no_decay_1d=True)
    opts.add("generator", g_opt, build_scheduler("noam", g_opt, warmup_steps=5))
    d_opt = build_optimizer("sgd", disc, lr=0.05, momentum=0.9)
    opts.add("discriminator", d_opt, build_scheduler("plateau_halving", d_opt, patience=1))
    return gen, disc, opts


def run_gan(gen, disc, opts, steps, first_step):
    """Alternate updates; an epoch is 4 steps; the discriminator's metric never improves."""
    for step in range(first_step, first_step + steps):
        train_step(gen, opts["generator"], step)
        train_step(disc, opts["discriminator"], 1000 + step)
        opts.step_update(step + 1)
        if (step + 1) % 4 == 0:
            opts.epoch_update((step + 1) // 4, valid_metric=1.0)


def test_optimizer_set_round_trip_continues_identically(tmp_path):
    gen, disc, opts = gan_set(0)
    run_gan(gen, disc, opts, 6, first_step=0)
    torch.save({"gen": gen.state_dict(), "disc": disc.state_dict(), "opts": opts.state_dict()},
               tmp_path / "ckpt.pth")

    run_gan(gen, disc, opts, 10, first_step=6)
    gen2, disc2, opts2 = gan_set(7)  # other initial weights, states from the checkpoint
    ckpt = torch.load(tmp_path / "ckpt.pth", weights_only=True)
    gen2.load_state_dict(ckpt["gen"])
    disc2.load_state_dict(ckpt["disc"])
    opts2.load_state_dict(ckpt["opts"])
    run_gan(gen2, disc2, opts2, 10, first_step=6)

    assert opts2.lrs() == opts.lrs()
    assert opts.lrs()["discriminator"] == [0.05 * 0.5 ** 3]  # halved at epochs 2, 3 and 4
    for a, b in ((gen, gen2), (disc, disc2)):
        for pa, pb in zip(a.parameters(), b.parameters()):
            assert torch.equal(pa, pb)
    for name in ("generator", "discriminator"):
        sa, sb = opts[name].state_dict()["state"], opts2[name].state_dict()["state"]
        for key in sa:
            for field in sa[key]:
                assert torch.equal(torch.as_tensor(sa[key][field]), torch.as_tensor(sb[key][field]))


def test_optimizer_set_restore_flag_and_name_mismatch():
    _, _, opts = gan_set(0)
    opts.epoch_update(1, valid_metric=1.0)
    assert not opts.should_restore_best
    opts.epoch_update(2, valid_metric=1.0)
    assert opts.should_restore_best  # the discriminator's scheduler asks
    assert opts.lrs()["discriminator"] == [0.025]
    other = OptimizerSet()
    other.add("generator", opts["generator"])
    with pytest.raises(ConfigError, match=r"\['discriminator', 'generator'\] do not match"):
        other.load_state_dict(opts.state_dict())
    with pytest.raises(ConfigError, match="added twice"):
        other.add("generator", opts["generator"])
