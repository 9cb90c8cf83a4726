"""Batch collation and DataLoader worker seeding."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from vk_core.registry import FUNCTIONS
from vk_core.structures import BaseDataElement

from .rng import seed_data_rng


def worker_init_fn(worker_id: int, num_workers: int, rank: int, seed: int, disable_subprocess_warning: bool = False):
    """Seeds ``random``, ``numpy``, ``torch`` and the data generator of one DataLoader worker.

    The seed mixes ``seed``, ``rank`` and ``worker_id`` (distinct across all workers of a job) with the worker's torch
    seed (which changes every epoch for non-persistent workers), so epochs do not replay the same augmentations and
    a run with the same seed is still reproducible. Use with ``functools.partial(worker_init_fn, num_workers=..,
    rank=.., seed=..)``.
    """
    worker_seed = num_workers * rank + worker_id + seed
    torch_seed = torch.initial_seed() % 2**32
    np.random.seed((worker_seed + torch_seed) % 2**32)
    random.seed(worker_seed + torch_seed)
    torch.manual_seed(worker_seed + torch_seed)
    seed_data_rng([seed % 2**63, rank, worker_id, torch_seed])
    if disable_subprocess_warning and worker_id != 0:
        import warnings

        warnings.simplefilter("ignore")


def _check_lengths(data_batch: Sequence, fn: str) -> None:
    size = len(data_batch[0])
    for i, item in enumerate(data_batch):
        if len(item) != size:
            raise RuntimeError(f"{fn}: sample 0 has {size} elements but sample {i} has {len(item)}")


def _keyed(fn, key, values):
    """Runs ``fn`` and prefixes a collation error with the dict key it happened under."""
    try:
        return fn(values)
    except RuntimeError as exc:
        prefix, msg = f"{fn.__name__}: ", str(exc)
        msg = msg[len(prefix) :] if msg.startswith(prefix) else msg
        raise RuntimeError(f"{prefix}key {key!r}: {msg}") from None


@FUNCTIONS.register_module()
def pseudo_collate(data_batch: Sequence) -> Any:
    """Transposes a list of samples into one structure of lists, without stacking anything.

    ``[dict(inputs=a, data_samples=x), dict(inputs=b, data_samples=y)]`` -> ``dict(inputs=[a, b], data_samples=[x, y])``.
    """
    if not isinstance(data_batch, Sequence) or len(data_batch) == 0:
        raise ValueError(f"pseudo_collate: expected a non-empty list of samples, got {data_batch!r}")
    item = data_batch[0]
    if isinstance(item, (str, bytes)):
        return data_batch
    if isinstance(item, tuple) and hasattr(item, "_fields"):
        return type(item)(*(pseudo_collate(list(s)) for s in zip(*data_batch)))
    if isinstance(item, Sequence):
        _check_lengths(data_batch, "pseudo_collate")
        transposed = [pseudo_collate(list(s)) for s in zip(*data_batch)]
        if isinstance(item, tuple):
            return transposed
        try:
            return type(item)(transposed)
        except TypeError:
            return transposed
    if isinstance(item, Mapping):
        return type(item)({key: _keyed(pseudo_collate, key, [d[key] for d in data_batch]) for key in item})
    return list(data_batch)


@FUNCTIONS.register_module()
def default_collate(data_batch: Sequence) -> Any:
    """Like ``pseudo_collate`` but stacks tensors, arrays and numbers into batched tensors.

    Data elements (``BaseDataElement``) and strings stay as lists. Tensors must share a shape.
    """
    if not isinstance(data_batch, Sequence) or len(data_batch) == 0:
        raise ValueError(f"default_collate: expected a non-empty list of samples, got {data_batch!r}")
    item = data_batch[0]
    if isinstance(item, (BaseDataElement, str, bytes)):
        return list(data_batch)
    if isinstance(item, tuple) and hasattr(item, "_fields"):
        return type(item)(*(default_collate(list(s)) for s in zip(*data_batch)))
    if isinstance(item, Sequence):
        _check_lengths(data_batch, "default_collate")
        transposed = [default_collate(list(s)) for s in zip(*data_batch)]
        if isinstance(item, tuple):
            return transposed
        try:
            return type(item)(transposed)
        except TypeError:
            return transposed
    if isinstance(item, Mapping):
        return type(item)({key: _keyed(default_collate, key, [d[key] for d in data_batch]) for key in item})
    if isinstance(item, torch.Tensor):
        shapes = {tuple(t.shape) for t in data_batch}
        if len(shapes) > 1:
            raise RuntimeError(f"default_collate: tensors of different shapes {sorted(shapes)} cannot be stacked")
        return torch.stack(list(data_batch))
    from torch.utils.data._utils.collate import default_collate as torch_default_collate

    return torch_default_collate(list(data_batch))
