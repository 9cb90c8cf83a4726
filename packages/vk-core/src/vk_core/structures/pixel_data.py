"""PixelData: dense per-pixel fields (segmentation maps, logits), each (C, H, W) with one shared H and W."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .base_data_element import BaseDataElement


class PixelData(BaseDataElement):
    """Every data field is a tensor or array of shape (C, H, W); a 2-D (H, W) value is stored as (1, H, W).

    >>> seg = PixelData(metainfo=dict(img_shape=(20, 40)), sem_seg=torch.zeros(20, 40))
    >>> seg.sem_seg.shape, seg.shape, seg[5:10, 0:8].shape
    (torch.Size([1, 20, 40]), (20, 40), (5, 8))
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("_metainfo_fields", "_data_fields"):
            super().__setattr__(name, value)
            return
        if not isinstance(value, (torch.Tensor, np.ndarray)):
            raise TypeError(f"PixelData field {name!r} must be a tensor or numpy array, got {type(value).__name__}")
        if value.ndim == 2:
            value = value[None]
        elif value.ndim != 3:
            raise AssertionError(
                f"PixelData field {name!r} must be 2-D (H, W) or 3-D (C, H, W), got shape {tuple(value.shape)}"
            )
        shape = self.shape
        others = [k for k in self.keys() if k != name]
        if shape is not None and others and tuple(value.shape[-2:]) != shape:
            raise AssertionError(
                f"PixelData field {name!r} has spatial size {tuple(value.shape[-2:])}, other fields have {shape}"
            )
        super().__setattr__(name, value)

    __setitem__ = __setattr__

    @property
    def shape(self) -> tuple[int, int] | None:
        """(H, W) of the fields, or None while empty."""
        for value in self.values():
            return tuple(int(s) for s in value.shape[-2:])
        return None

    def __getitem__(self, item: Any) -> Any:
        """``pix[y0:y1, x0:x1]`` crops every field; an int keeps its dimension."""
        if isinstance(item, str):
            return super().__getitem__(item)
        if not isinstance(item, tuple):
            item = (item,)
        if len(item) > 2:
            raise IndexError(f"PixelData takes at most 2 spatial indices (rows, cols), got {len(item)}")
        index: list[slice] = []
        for axis, sub in enumerate(item):
            if isinstance(sub, (int, np.integer)) and not isinstance(sub, bool):
                size = self.shape[axis] if self.shape else 0
                if sub >= size or sub < -size:
                    raise IndexError(f"PixelData index {sub} out of range for axis of size {size}")
                sub = int(sub) % size
                sub = slice(sub, sub + 1)
            if not isinstance(sub, slice):
                raise TypeError(f"PixelData spatial index must be an int or slice, got {type(sub).__name__}")
            index.append(sub)
        out = self.__class__(metainfo=self.metainfo)
        for key, value in self.items():
            setattr(out, key, value[(slice(None), *index)])
        return out
