"""Datasets, wrappers, samplers, collate functions and the transform pipeline container."""

from .base_dataset import BaseDataset, DataRefetchError, force_full_init
from .compose import Compose
from .rng import data_rng, seed_data_rng
from .sampler import DefaultSampler, InfiniteSampler
from .utils import default_collate, pseudo_collate, worker_init_fn
from .wrappers import ClassBalancedDataset, ConcatDataset, RepeatDataset

__all__ = [
    "BaseDataset",
    "ClassBalancedDataset",
    "Compose",
    "ConcatDataset",
    "DataRefetchError",
    "DefaultSampler",
    "InfiniteSampler",
    "RepeatDataset",
    "data_rng",
    "default_collate",
    "force_full_init",
    "pseudo_collate",
    "seed_data_rng",
    "worker_init_fn",
]
