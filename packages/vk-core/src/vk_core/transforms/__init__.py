"""Data transforms shared by vk-det and vk-seg (dict in, dict out), registered in TRANSFORMS.

Random transforms draw from ``vk_core.dataset.data_rng()``; see ``vk_core.dataset.rng`` for how it is seeded.
"""

from vk_core.dataset.compose import Compose
from vk_core.dataset.rng import data_rng, seed_data_rng

from .base import BaseTransform, avoid_cache_randomness, cache_randomness
from .loading import LoadAnnotations, LoadImageFromFile
from .processing import (
    CenterCrop,
    Normalize,
    Pad,
    PhotoMetricDistortion,
    RandomChoiceResize,
    RandomCrop,
    RandomFlip,
    RandomResize,
    Resize,
)
from .wrappers import KeyMapper, RandomApply, RandomChoice, TestTimeAug

__all__ = [
    "BaseTransform",
    "CenterCrop",
    "Compose",
    "KeyMapper",
    "LoadAnnotations",
    "LoadImageFromFile",
    "Normalize",
    "Pad",
    "PhotoMetricDistortion",
    "RandomApply",
    "RandomChoice",
    "RandomChoiceResize",
    "RandomCrop",
    "RandomFlip",
    "RandomResize",
    "Resize",
    "TestTimeAug",
    "avoid_cache_randomness",
    "cache_randomness",
    "data_rng",
    "seed_data_rng",
]
