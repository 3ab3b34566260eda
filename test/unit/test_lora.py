"""LoRA: a wrapped model starts equal to its base, trains only the adapters, merges back exactly."""
import math

import pytest
import torch
from torch import nn

from toolkit.layers.lora import LoRALinear, apply_lora, merge_lora
from toolkit.train.checkpoint import load_checkpoint, save_checkpoint
from toolkit.train.finetune import count_parameters
from toolkit.utils.errors import ConfigError


class TinyAttention(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(dim, dim) for _ in range(4))

    def forward(self, x):
        q, k, v = self.q_proj(x), self.k_proj(x), self.v_proj(x)
        weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1)
        return x + self.out_proj(weights @ v)


class TinyModel(nn.Module):
    def __init__(self, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.embed = nn.Linear(4, 8)
        self.layers = nn.ModuleList([TinyAttention(), TinyAttention()])
        self.head = nn.Linear(8, 3, bias=False)

    def forward(self, x):
        x = self.embed(x)
        for layer in self.layers:
            x = layer(x)
        return self.head(x)


def inputs(seed=1):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(2, 6, 4, generator=gen), torch.randn(2, 6, 3, generator=gen)


def train(model, steps=20, lr=0.05):
    """Plain SGD on the trainable parameters; returns the first and last loss."""
    params = [p for p in model.parameters() if p.requires_grad]
    x, y = inputs()
    losses = []
    for _ in range(steps):
        loss = nn.functional.mse_loss(model(x), y)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in params:
                param -= lr * param.grad
        losses.append(loss.item())
    return losses[0], losses[-1]


def test_wrapped_model_starts_equal_and_trains_only_adapters():
    base = TinyModel()
    x, _ = inputs()
    expected = base(x).detach()
    base_state = {k: v.clone() for k, v in base.state_dict().items()}
    wrapped = apply_lora(base, "q_proj,v_proj", rank=2, alpha=4, dropout=0.1)
    assert wrapped == ["layers.0.q_proj", "layers.0.v_proj", "layers.1.q_proj", "layers.1.v_proj"]
    assert torch.equal(base.train()(x), expected)  # B = 0: dropout changes nothing either
    trainable = sorted(n for n, p in base.named_parameters() if p.requires_grad)
    assert trainable == sorted(f"{name}.lora_{ab}" for name in wrapped for ab in "AB")
    assert count_parameters(base)[0] == 4 * (2 * 8 + 8 * 2)
    first, last = train(base)
    assert last < first
    assert (base.eval()(x) - expected).abs().max() > 1e-3  # the adapters changed the output
    for key, value in base_state.items():  # the base weights did not move
        assert torch.equal(base.state_dict()[key], value), key


def test_merge_matches_the_unmerged_model_and_restores_the_base_layout(tmp_path):
    model = TinyModel()
    base_keys = list(model.state_dict())
    apply_lora(model, [r"layers\.1\..*_proj", "0.q_proj"], rank=4, alpha=8)
    assert sum(isinstance(m, LoRALinear) for m in model.modules()) == 5
    train(model)
    x, _ = inputs(seed=3)
    unmerged = model.eval()(x).detach()
    assert (unmerged - TinyModel().eval()(x)).abs().max() > 1e-3  # LoRA made a difference to merge
    save_checkpoint(tmp_path / "lora.pth", model.state_dict())
    merge_lora(model)
    assert not any(isinstance(m, LoRALinear) for m in model.modules())
    assert list(model.state_dict()) == base_keys
    torch.testing.assert_close(model(x), unmerged, rtol=0, atol=1e-5)
    # the merged state dict loads into a fresh base model (the export layout)
    fresh = TinyModel(seed=9)
    fresh.load_state_dict(model.state_dict())
    torch.testing.assert_close(fresh.eval()(x), unmerged, rtol=0, atol=1e-5)
    # the LoRA model's own state dict round-trips through a file
    reloaded = TinyModel(seed=9)
    apply_lora(reloaded, [r"layers\.1\..*_proj", "0.q_proj"], rank=4, alpha=8)
    reloaded.load_state_dict(load_checkpoint(tmp_path / "lora.pth"))
    assert torch.equal(reloaded.eval()(x), unmerged)


def test_base_checkpoint_loads_into_a_wrapped_model():
    base = TinyModel(seed=1)
    model = TinyModel(seed=2)
    apply_lora(model, "v_proj", rank=2, alpha=2)
    result = model.load_state_dict(base.state_dict(), strict=False)
    assert result.unexpected_keys == []
    assert sorted(result.missing_keys) == [f"layers.{i}.v_proj.lora_{ab}" for i in (0, 1) for ab in "AB"]
    x, _ = inputs()
    assert torch.equal(model(x), base(x))


def test_targets_that_match_nothing_are_config_errors():
    with pytest.raises(ConfigError, match="'w_proj' matches no nn.Linear"):
        apply_lora(TinyModel(), "q_proj,w_proj")
    with pytest.raises(ConfigError, match="'layers' matches no nn.Linear"):
        apply_lora(TinyModel(), "layers")  # a container, not a linear layer
    attention = nn.ModuleDict({"mha": nn.MultiheadAttention(8, 2)})
    with pytest.raises(ConfigError, match="out_proj"):  # its forward is never called
        apply_lora(attention, "out_proj")
    with pytest.raises(ConfigError, match="rank must be at least 1"):
        apply_lora(TinyModel(), "q_proj", rank=0)
