"""InstanceData: per-instance fields (boxes, labels, scores, masks) that all share one length."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .base_data_element import BaseDataElement


class InstanceLengthError(ValueError, AssertionError):
    """A field's length differs from the other fields of an InstanceData.

    Subclasses AssertionError too because MMEngine signals this with ``assert``; callers catching either work.
    """


def _to_index(item: Any, length: int) -> torch.Tensor | slice:
    """Normalises a non-int, non-str index to a slice, a bool mask or a long index tensor."""
    if isinstance(item, slice):
        return item
    if isinstance(item, np.ndarray):
        item = torch.from_numpy(item)
    elif isinstance(item, (list, tuple)):
        item = torch.tensor(item, dtype=torch.bool if item and all(isinstance(i, bool) for i in item) else torch.long)
    if not isinstance(item, torch.Tensor):
        raise TypeError(
            f"InstanceData index must be a str, int, slice, list, numpy array or tensor, got {type(item).__name__}"
        )
    if item.dim() != 1:
        raise IndexError(f"InstanceData index tensor must be 1-D, got shape {tuple(item.shape)}")
    if item.dtype == torch.bool:
        if item.numel() != length:
            raise IndexError(f"bool mask of length {item.numel()} does not match the InstanceData length {length}")
    elif item.dtype in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        item = item.long()
        if item.numel() and (item.max() >= length or item.min() < -length):
            raise IndexError(f"index {item.tolist()} out of range for InstanceData of length {length}")
    else:
        raise TypeError(f"InstanceData index tensor must be bool or integer, got dtype {item.dtype}")
    return item


class InstanceData(BaseDataElement):
    """Data fields are per-instance and must all have the same length; ``len(data)`` is that length.

    Values may be tensors, numpy arrays, lists, tuples, strings, or any type with ``__len__``, ``__getitem__`` and a
    static/class ``cat`` (e.g. mask containers). Indexing selects instances:

        >>> inst = InstanceData(metainfo=dict(img_shape=(4, 4)), bboxes=torch.rand(3, 4), labels=torch.tensor([0, 1, 2]))
        >>> len(inst[1]), len(inst[inst.labels > 0]), len(inst[[0, 2]])
        (1, 2, 2)

    An int index keeps the instance dimension (``inst[0].bboxes.shape == (1, 4)``).
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("_metainfo_fields", "_data_fields"):
            super().__setattr__(name, value)
            return
        if not hasattr(value, "__len__"):
            raise TypeError(
                f"InstanceData field {name!r} must have a length (tensor, array, list, ...), got {type(value).__name__}"
            )
        if (
            len(self) > 0
            and len(value) != len(self)
            and not (name in self._data_fields and len(self._data_fields) == 1)
        ):
            raise InstanceLengthError(
                f"InstanceData field {name!r} has length {len(value)}, but the other fields have length {len(self)}"
            )
        super().__setattr__(name, value)

    __setitem__ = __setattr__

    def __len__(self) -> int:
        for value in self.values():
            return len(value)
        return 0

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, str):
            return super().__getitem__(item)
        length = len(self)
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            index = int(item)
            if index >= length or index < -length:
                raise IndexError(f"index {index} out of range for InstanceData of length {length}")
            index %= length
            item = slice(index, index + 1)
        else:
            item = _to_index(item, length)

        out = self.__class__(metainfo=self.metainfo)
        for key, value in self.items():
            setattr(out, key, _select(key, value, item))
        return out

    @staticmethod
    def cat(instances_list: Sequence[InstanceData]) -> InstanceData:
        """Concatenates instance sets that have identical field names; metainfo comes from the first."""
        if not isinstance(instances_list, (list, tuple)) or not instances_list:
            raise ValueError("InstanceData.cat expects a non-empty list of InstanceData")
        for i, inst in enumerate(instances_list):
            if not isinstance(inst, InstanceData):
                raise TypeError(f"InstanceData.cat: item {i} is a {type(inst).__name__}, not an InstanceData")
        if len(instances_list) == 1:
            return instances_list[0]
        keys = set(instances_list[0].keys())
        for i, inst in enumerate(instances_list[1:], start=1):
            if set(inst.keys()) != keys:
                raise ValueError(
                    f"InstanceData.cat: item {i} has fields {sorted(inst.keys())}, item 0 has {sorted(keys)}"
                )
        out = instances_list[0].__class__(metainfo=instances_list[0].metainfo)
        for key in instances_list[0].keys():
            values = [inst[key] for inst in instances_list]
            first = values[0]
            if isinstance(first, torch.Tensor):
                merged = torch.cat(values, dim=0)
            elif isinstance(first, np.ndarray):
                merged = np.concatenate(values, axis=0)
            elif isinstance(first, (str, list, tuple)):
                merged = first.__class__(itertools.chain.from_iterable(values))
                if isinstance(first, str):
                    merged = "".join(values)
            elif hasattr(first, "cat"):
                merged = type(first).cat(values)
            else:
                raise TypeError(
                    f"InstanceData.cat: field {key!r} of type {type(first).__name__} cannot be concatenated"
                )
            setattr(out, key, merged)
        return out


def _select(key: str, value: Any, item: slice | torch.Tensor) -> Any:
    if isinstance(value, torch.Tensor):
        return value[item.to(value.device) if isinstance(item, torch.Tensor) else item]
    if isinstance(value, np.ndarray):
        return value[item.cpu().numpy() if isinstance(item, torch.Tensor) else item]
    if isinstance(item, slice):
        return value[item]
    if isinstance(value, (str, list, tuple)):
        positions = item.nonzero().flatten().tolist() if item.dtype == torch.bool else item.tolist()
        picked = [value[i] for i in positions]
        return "".join(picked) if isinstance(value, str) else value.__class__(picked)
    if hasattr(value, "__getitem__"):
        try:
            return value[item]  # containers such as mask types take an index tensor directly
        except (TypeError, IndexError):
            if not hasattr(value, "cat"):
                raise
        # A type that only takes ints and slices: select one slice per instance and join them with its cat().
        positions = item.nonzero().flatten().tolist() if item.dtype == torch.bool else item.tolist()
        parts = [value[slice(i % len(value), i % len(value) + 1)] for i in positions] or [value[0:0]]
        return type(value).cat(parts)
    raise TypeError(f"InstanceData field {key!r} of type {type(value).__name__} cannot be indexed")
