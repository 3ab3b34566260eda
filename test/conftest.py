"""Shared pytest set-up: one torch thread per test process (CI machines have 2 cores)."""
import torch

torch.set_num_threads(1)
