"""Multi-process training set-up from torchrun's environment variables."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistributedContext:
    rank: int
    world_size: int
    local_rank: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_from_environment(device: str = "auto") -> DistributedContext | None:
    """Join the process group that torchrun describes (WORLD_SIZE > 1), or return None.

    NCCL is used when the processes train on CUDA, gloo otherwise (CPU runs and tests).
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return None
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    use_cuda = device != "cpu" and torch.cuda.is_available()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    if use_cuda:
        torch.cuda.set_device(local_rank)
    log.info("joined process group as rank %d of %d", rank, world_size)
    return DistributedContext(rank, world_size, local_rank)


def device_for(context: DistributedContext | None, preference: str) -> str:
    """Return the device string for this process: its own GPU under torchrun on CUDA."""
    if context is not None and preference != "cpu" and torch.cuda.is_available():
        return f"cuda:{context.local_rank}"
    return preference
