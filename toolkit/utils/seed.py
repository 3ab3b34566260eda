"""Seeding and RNG state capture for reproducible, exactly resumable training.

Covers Python's `random`, NumPy's global RNG (`np.random.*`, not Generators
made with `np.random.default_rng`) and torch's CPU and CUDA generators.
"""
import os
import random

import numpy as np
import torch


def set_seed(seed, deterministic=False):
    """Seed python, numpy and torch (CPU and every CUDA device) with `seed`.

    deterministic=True also asks torch for deterministic kernels: cuDNN
    deterministic without autotuning, `CUBLAS_WORKSPACE_CONFIG=:4096:8` unless
    already set (it must be set before the first cuBLAS call), and
    `torch.use_deterministic_algorithms(True, warn_only=True)`, so an op with no
    deterministic implementation warns instead of stopping a training run.
    deterministic=False leaves those settings as they are.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds the CUDA generators too
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True, warn_only=True)


def get_rng_state():
    """RNG states of python, numpy, torch and CUDA (None without a GPU), as a dict.

    The dict holds only plain Python values and tensors, so it can be stored in
    a checkpoint and read back with `torch.load(..., weights_only=True)`.
    """
    name, keys, position, has_gauss, cached_gauss = np.random.get_state(legacy=True)
    return {
        "python": random.getstate(),
        "numpy": (name, keys.tolist(), position, has_gauss, cached_gauss),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
    }


def set_rng_state(state):
    """Restore states from `get_rng_state`; CUDA states only for the devices present."""
    random.setstate(state["python"])
    name, keys, position, has_gauss, cached_gauss = state["numpy"]
    np.random.set_state((name, np.array(keys, dtype=np.uint32), position, has_gauss, cached_gauss))
    torch.set_rng_state(state["torch"])
    if state["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"][: torch.cuda.device_count()])
