"""Annotation filtering."""

from __future__ import annotations

import numpy as np
from vk_core.transforms import BaseTransform

from ..registry import TRANSFORMS
from .geometric import _select_instances


@TRANSFORMS.register_module()
class FilterAnnotations(BaseTransform):
    """Drop instances with a box side under ``min_gt_bbox_wh`` (w, h) and/or a mask area under
    ``min_gt_mask_area``; return None (sample redrawn) if none is left and ``keep_empty`` is False."""

    def __init__(self, min_gt_bbox_wh=(1, 1), min_gt_mask_area: int = 1, by_box=True, by_mask=False, keep_empty=True):
        if not (by_box or by_mask):
            raise ValueError("FilterAnnotations needs by_box or by_mask")
        self.min_gt_bbox_wh = min_gt_bbox_wh
        self.min_gt_mask_area = min_gt_mask_area
        self.by_box = by_box
        self.by_mask = by_mask
        self.keep_empty = keep_empty

    def transform(self, results: dict) -> dict | None:
        boxes = results.get("gt_bboxes")
        if boxes is None or len(boxes) == 0:
            return results
        keep = np.ones(len(boxes), bool)
        if self.by_box:
            w = boxes[:, 2] - boxes[:, 0]
            h = boxes[:, 3] - boxes[:, 1]
            keep &= (w > self.min_gt_bbox_wh[0]) & (h > self.min_gt_bbox_wh[1])
        if self.by_mask and results.get("gt_masks") is not None:
            keep &= results["gt_masks"].areas >= self.min_gt_mask_area
        if not keep.any() and not self.keep_empty:
            return None
        _select_instances(results, keep)
        return results
