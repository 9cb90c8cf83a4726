"""Samplers that work the same with and without distributed training."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sized

import torch
from torch.utils.data import Sampler

from vk_core.registry import DATA_SAMPLERS


def _dist_info() -> tuple[int, int]:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def _shared_seed(seed: int | None) -> int:
    """A seed every rank agrees on: the given one, or rank 0's random draw."""
    if seed is not None:
        if not isinstance(seed, int):
            raise TypeError(f"sampler seed must be an int or None, got {seed!r}")
        return seed
    try:
        from vk_core.dist import sync_random_seed
    except ImportError:
        return int(torch.randint(0, 2**31, (1,)).item())
    return int(sync_random_seed())


@DATA_SAMPLERS.register_module()
class DefaultSampler(Sampler):
    """Shards (and optionally shuffles) indices across ranks; works unchanged without distribution.

    ``round_up=True`` repeats leading indices so every rank gets ``ceil(N / world_size)`` samples;
    ``round_up=False`` gives rank r the indices r, r + world_size, ... and adds or drops nothing.
    Shuffling uses ``seed + epoch``; call ``set_epoch`` each epoch (the runner's DistSamplerSeedHook does).
    """

    def __init__(self, dataset: Sized, shuffle: bool = True, seed: int | None = None, round_up: bool = True):
        self.rank, self.world_size = _dist_info()
        self.dataset = dataset
        self.shuffle = shuffle
        self.seed = _shared_seed(seed)
        self.epoch = 0
        self.round_up = round_up
        n = len(dataset)
        if round_up:
            self.num_samples = math.ceil(n / self.world_size)
            self.total_size = self.num_samples * self.world_size
        else:
            self.num_samples = math.ceil((n - self.rank) / self.world_size)
            self.total_size = n

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            g = torch.Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = torch.randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if self.round_up and n:
            indices = (indices * (self.total_size // n + 1))[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.world_size])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch


@DATA_SAMPLERS.register_module()
class InfiniteSampler(Sampler):
    """An endless index stream for iteration-based training, sharded across ranks; ``set_epoch`` does nothing."""

    def __init__(self, dataset: Sized, shuffle: bool = True, seed: int | None = None):
        self.rank, self.world_size = _dist_info()
        self.dataset = dataset
        self.size = len(dataset)
        if self.size == 0:
            raise ValueError("InfiniteSampler: the dataset is empty")
        self.shuffle = shuffle
        self.seed = _shared_seed(seed)
        self.indices = self._indices_of_rank()

    def _infinite_indices(self) -> Iterator[int]:
        g = torch.Generator()
        g.manual_seed(self.seed)
        while True:
            if self.shuffle:
                yield from torch.randperm(self.size, generator=g).tolist()
            else:
                yield from range(self.size)

    def _indices_of_rank(self) -> Iterator[int]:
        return itertools.islice(self._infinite_indices(), self.rank, None, self.world_size)

    def __iter__(self) -> Iterator[int]:
        yield from self.indices

    def __len__(self) -> int:
        return self.size

    def set_epoch(self, epoch: int) -> None:
        pass
