"""A seeded sampler whose order can be resumed in the middle of an epoch."""

from __future__ import annotations

import torch
from torch.utils.data import Sampler


class ResumableSampler(Sampler[int]):
    """Shuffle with a generator seeded by (seed, epoch), starting at ``start`` samples in.

    With ``num_replicas`` > 1 each rank takes every ``num_replicas``-th index of the
    same permutation, as ``DistributedSampler`` does, trimmed to equal length.
    """

    def __init__(self, length: int, seed: int, epoch: int = 0, start: int = 0,
                 num_replicas: int = 1, rank: int = 0) -> None:
        self.length = length
        self.seed = seed
        self.epoch = epoch
        self.start = start
        self.num_replicas = num_replicas
        self.rank = rank

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        self.epoch = epoch
        self.start = start

    def _indices(self) -> list[int]:
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        order = torch.randperm(self.length, generator=generator).tolist()
        per_rank = self.length // self.num_replicas
        return order[self.rank : per_rank * self.num_replicas : self.num_replicas]

    def __iter__(self):
        return iter(self._indices()[self.start :])

    def __len__(self) -> int:
        return max(0, self.length // self.num_replicas - self.start)
