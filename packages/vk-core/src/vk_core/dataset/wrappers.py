"""Dataset wrappers: ConcatDataset, RepeatDataset, ClassBalancedDataset."""

from __future__ import annotations

import bisect
import copy
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from torch.utils.data import Dataset

from vk_core.registry import DATASETS

from .base_dataset import BaseDataset, force_full_init


def _build(dataset: Any, where: str) -> Any:
    if isinstance(dataset, dict):
        return DATASETS.build(dataset)
    if isinstance(dataset, Dataset) or hasattr(dataset, "__getitem__"):
        return dataset
    raise TypeError(f"{where}: expected a dataset or a config dict, got {type(dataset).__name__}")


def _full_init(dataset: Any) -> None:
    if hasattr(dataset, "full_init"):
        dataset.full_init()


class _Wrapper:
    _fully_initialized = False

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self._metainfo)

    def get_subset_(self, indices):
        raise NotImplementedError(f"{type(self).__name__} does not support get_subset_; subset the inner datasets")

    def get_subset(self, indices):
        raise NotImplementedError(f"{type(self).__name__} does not support get_subset; subset the inner datasets")


@DATASETS.register_module()
class ConcatDataset(_Wrapper, Dataset):
    """Concatenation of datasets; metainfo is the first dataset's.

    The other datasets must have the same metainfo except for ``ignore_keys``, otherwise their labels would mean
    different things.
    """

    def __init__(self, datasets: Sequence, lazy_init: bool = False, ignore_keys: str | list[str] | None = None):
        if not isinstance(datasets, Sequence) or not datasets:
            raise ValueError(f"ConcatDataset: datasets must be a non-empty list, got {datasets!r}")
        self.datasets = [_build(d, f"ConcatDataset.datasets[{i}]") for i, d in enumerate(datasets)]
        ignore = [ignore_keys] if isinstance(ignore_keys, str) else list(ignore_keys or [])
        self._metainfo = getattr(self.datasets[0], "metainfo", {})
        for i, ds in enumerate(self.datasets[1:], start=1):
            other = getattr(ds, "metainfo", {})
            for key in set(self._metainfo) | set(other):
                if key not in ignore and self._metainfo.get(key) != other.get(key):
                    raise ValueError(
                        f"ConcatDataset: metainfo[{key!r}] of dataset {i} ({other.get(key)!r:.60}) differs from "
                        f"dataset 0 ({self._metainfo.get(key)!r:.60}); add it to ignore_keys if that is intended"
                    )
        if not lazy_init:
            self.full_init()

    def full_init(self) -> None:
        if self._fully_initialized:
            return
        for d in self.datasets:
            _full_init(d)
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()
        self._fully_initialized = True

    def _locate(self, idx: int) -> tuple[int, int]:
        total = self.cumulative_sizes[-1]
        if not -total <= idx < total:
            raise IndexError(f"ConcatDataset: index {idx} out of range for {total} samples")
        idx %= total
        ds = bisect.bisect_right(self.cumulative_sizes, idx)
        return ds, idx - (self.cumulative_sizes[ds - 1] if ds > 0 else 0)

    @force_full_init
    def get_data_info(self, idx: int) -> dict:
        ds, sample = self._locate(idx)
        return self.datasets[ds].get_data_info(sample)

    @force_full_init
    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    @force_full_init
    def __getitem__(self, idx: int):
        ds, sample = self._locate(idx)
        return self.datasets[ds][sample]

    @force_full_init
    def get_cat_ids(self, idx: int) -> list[int]:
        ds, sample = self._locate(idx)
        return self.datasets[ds].get_cat_ids(sample)


@DATASETS.register_module()
class RepeatDataset(_Wrapper, Dataset):
    """Repeats a dataset ``times`` times (cuts per-epoch overhead for small datasets)."""

    def __init__(self, dataset: Any, times: int, lazy_init: bool = False):
        if not isinstance(times, int) or times < 1:
            raise ValueError(f"RepeatDataset: times must be an int >= 1, got {times!r}")
        self.dataset = _build(dataset, "RepeatDataset.dataset")
        self.times = times
        self._metainfo = getattr(self.dataset, "metainfo", {})
        if not lazy_init:
            self.full_init()

    def full_init(self) -> None:
        if self._fully_initialized:
            return
        _full_init(self.dataset)
        self._ori_len = len(self.dataset)
        self._fully_initialized = True

    @force_full_init
    def _inner(self, idx: int) -> int:
        n = self.times * self._ori_len
        if not -n <= idx < n:
            raise IndexError(f"RepeatDataset: index {idx} out of range for {n} samples")
        return (idx % n) % self._ori_len

    def get_data_info(self, idx: int) -> dict:
        return self.dataset.get_data_info(self._inner(idx))

    def __getitem__(self, idx: int):
        return self.dataset[self._inner(idx)]

    def get_cat_ids(self, idx: int) -> list[int]:
        return self.dataset.get_cat_ids(self._inner(idx))

    @force_full_init
    def __len__(self) -> int:
        return self.times * self._ori_len


@DATASETS.register_module()
class ClassBalancedDataset(_Wrapper, Dataset):
    """Repeats images containing rare classes (repeat factor sampling, LVIS, arXiv 1908.03195).

    For class c with f(c) the fraction of images containing it, r(c) = max(1, sqrt(t / f(c))) for the threshold
    ``oversample_thr`` t; an image is repeated ceil(max over its classes of r(c)) times (once if it has none).
    The inner dataset needs ``get_cat_ids(idx)``.
    """

    def __init__(self, dataset: Any, oversample_thr: float, lazy_init: bool = False):
        if not isinstance(oversample_thr, (int, float)) or oversample_thr < 0:
            raise ValueError(f"ClassBalancedDataset: oversample_thr must be a number >= 0, got {oversample_thr!r}")
        self.dataset = _build(dataset, "ClassBalancedDataset.dataset")
        self.oversample_thr = float(oversample_thr)
        self._metainfo = getattr(self.dataset, "metainfo", {})
        if not lazy_init:
            self.full_init()

    def full_init(self) -> None:
        if self._fully_initialized:
            return
        _full_init(self.dataset)
        factors = self._get_repeat_factors(self.dataset, self.oversample_thr)
        self.repeat_indices = np.repeat(np.arange(len(factors)), np.ceil(factors).astype(np.int64)).tolist()
        self._fully_initialized = True

    @staticmethod
    def _get_repeat_factors(dataset: Any, repeat_thr: float) -> np.ndarray:
        num_images = len(dataset)
        image_cats = [set(dataset.get_cat_ids(i)) for i in range(num_images)]
        counts: dict[int, int] = defaultdict(int)
        for cats in image_cats:
            for c in cats:
                counts[c] += 1
        cat_repeat = {c: max(1.0, math.sqrt(repeat_thr / (n / num_images))) for c, n in counts.items()}
        return np.array([max((cat_repeat[c] for c in cats), default=1.0) for cats in image_cats], dtype=np.float64)

    @force_full_init
    def _inner(self, idx: int) -> int:
        n = len(self.repeat_indices)
        if not -n <= idx < n:
            raise IndexError(f"ClassBalancedDataset: index {idx} out of range for {n} samples")
        return self.repeat_indices[idx]

    def get_data_info(self, idx: int) -> dict:
        return self.dataset.get_data_info(self._inner(idx))

    def __getitem__(self, idx: int):
        return self.dataset[self._inner(idx)]

    def get_cat_ids(self, idx: int) -> list[int]:
        return self.dataset.get_cat_ids(self._inner(idx))

    @force_full_init
    def __len__(self) -> int:
        return len(self.repeat_indices)


__all__ = ["BaseDataset", "ClassBalancedDataset", "ConcatDataset", "RepeatDataset"]
