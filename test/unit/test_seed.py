"""Seeding and RNG state round trips."""
import os
import random

import numpy as np
import pytest
import torch

from toolkit.utils.seed import get_rng_state, set_rng_state, set_seed


def draws():
    """One draw from every seeded generator (CUDA too when there is a GPU)."""
    result = [random.random(), np.random.rand(3).tolist(), torch.rand(3).tolist()]
    if torch.cuda.is_available():
        result.append(torch.rand(3, device="cuda").tolist())
    return result


def test_same_seed_gives_same_draws():
    set_seed(123)
    first = draws()
    set_seed(123)
    assert draws() == first
    set_seed(124)
    assert draws() != first


def test_rng_state_round_trip_restores_next_draws():
    set_seed(0)
    draws()
    state = get_rng_state()
    expected = draws()
    draws()
    set_rng_state(state)
    assert draws() == expected


def test_rng_state_survives_a_weights_only_checkpoint(tmp_path):
    set_seed(7)
    torch.save({"rng": get_rng_state()}, tmp_path / "ckpt.pt")
    expected = draws()
    set_seed(99)
    set_rng_state(torch.load(tmp_path / "ckpt.pt", weights_only=True)["rng"])
    assert draws() == expected


@pytest.fixture
def restore_torch_flags(monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    saved = (torch.are_deterministic_algorithms_enabled(),
             torch.is_deterministic_algorithms_warn_only_enabled(),
             torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    yield
    torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = saved[2:]


def test_deterministic_mode_sets_torch_flags(restore_torch_flags):
    set_seed(1, deterministic=True)
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.is_deterministic_algorithms_warn_only_enabled()
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"


def test_deterministic_mode_keeps_user_cublas_setting(restore_torch_flags, monkeypatch):
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8")
    set_seed(1, deterministic=True)
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"
