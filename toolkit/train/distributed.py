"""torch.distributed set-up from torchrun's environment (WORLD_SIZE, RANK, LOCAL_RANK).

gloo on CPU, nccl on GPU. Without those variables everything runs in one process.
"""
import datetime
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class DistInfo:
    world_size: int = 1
    rank: int = 0
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self):
        return self.rank == 0

    @property
    def enabled(self):
        return self.world_size > 1


def init_distributed(device="auto", timeout_minutes=30):
    """Join the process group torchrun describes; pick this rank's device."""
    world_size = int(os.environ.get("WORLD_SIZE", 1))
    rank = int(os.environ.get("RANK", 0))
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    use_cuda = torch.cuda.is_available() if device == "auto" else device == "cuda"
    if use_cuda:
        torch.cuda.set_device(local_rank)
        dev = torch.device("cuda", local_rank)
    else:
        dev = torch.device("cpu")
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo", rank=rank, world_size=world_size,
                                timeout=datetime.timedelta(minutes=timeout_minutes))
    return DistInfo(world_size, rank, local_rank, dev)


def all_reduce_sum(tensor, info):
    """Sum a tensor over ranks in place (no-op in one process); returns it."""
    if info.enabled:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def barrier(info):
    if info.enabled:
        dist.barrier()


def shutdown(info):
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()
