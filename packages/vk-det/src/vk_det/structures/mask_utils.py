"""Mask helpers for evaluation and post-processing."""

from __future__ import annotations

import numpy as np
import torch

from ._maskapi import mask_api


def encode_mask_results(masks) -> list[dict]:
    """Encode (N, H, W) binary masks (tensor or array) as COCO RLE dicts with ``counts`` as str (JSON-ready)."""
    if isinstance(masks, torch.Tensor):
        masks = masks.detach().cpu().numpy()
    masks = np.asarray(masks)
    if masks.ndim != 3:
        raise ValueError(f"encode_mask_results expects masks of shape (N, H, W), got {masks.shape}")
    if len(masks) == 0:
        return []
    rles = mask_api().encode(np.asfortranarray(masks.transpose(1, 2, 0).astype(np.uint8)))
    for rle in rles:
        if isinstance(rle["counts"], bytes):
            rle["counts"] = rle["counts"].decode()
    return list(rles)


def mask2bbox(masks: torch.Tensor) -> torch.Tensor:
    """Tight xyxy boxes around (N, H, W) boolean masks (x2/y2 exclusive); zeros for empty masks."""
    n, h, w = masks.shape
    boxes = masks.new_zeros((n, 4), dtype=torch.float32)
    if n == 0:
        return boxes
    cols = masks.any(dim=1)
    rows = masks.any(dim=2)
    has = cols.any(dim=1)
    xs = torch.arange(w, device=masks.device)
    ys = torch.arange(h, device=masks.device)
    x1 = torch.where(cols, xs, w).min(dim=1).values
    x2 = torch.where(cols, xs, -1).max(dim=1).values + 1
    y1 = torch.where(rows, ys, h).min(dim=1).values
    y2 = torch.where(rows, ys, -1).max(dim=1).values + 1
    boxes[has] = torch.stack([x1, y1, x2, y2], dim=1)[has].float()
    return boxes
