"""The vk-core / vk-ops building blocks the models use, imported in one place.

Models import ``MODELS``, ``BaseModule``, ``ConvModule``... from here so that the dependency surface of
``vk_det.models`` on the other packages is visible at a glance, plus two small box helpers.
"""

from __future__ import annotations

import vk_ops
from vk_core.model import (
    BaseModel,
    BaseModule,
    ConvModule,
    ImgDataPreprocessor,
    Scale,
    build_activation_layer,
    build_conv_layer,
    build_norm_layer,
)
from vk_core.structures import InstanceData
from vk_ops import batched_nms, sigmoid_focal_loss

from vk_det.registry import MODELS, TASK_UTILS

__all__ = [
    "MODELS",
    "TASK_UTILS",
    "BaseModel",
    "BaseModule",
    "ConvModule",
    "ImgDataPreprocessor",
    "InstanceData",
    "Scale",
    "batched_nms",
    "bbox_overlaps",
    "build_activation_layer",
    "build_conv_layer",
    "build_norm_layer",
    "sigmoid_focal_loss",
]


def bbox_overlaps(bboxes1, bboxes2, mode="iou", aligned=False, offset=0, eps=1e-6):
    """IoU/IoF/GIoU through vk_ops, tolerant of empty inputs and of extra leading batch dimensions."""
    if bboxes1.numel() == 0 or bboxes2.numel() == 0:
        if aligned:
            return bboxes1.new_zeros(bboxes1.shape[:-1])
        return bboxes1.new_zeros(bboxes1.shape[:-1] + bboxes2.shape[-2:-1])
    if bboxes1.dim() == 2 and bboxes2.dim() == 2:
        return vk_ops.bbox_overlaps(bboxes1.float().contiguous(), bboxes2.float().contiguous(), mode, aligned, offset)
    return vk_ops.reference.bbox_overlaps(bboxes1, bboxes2, mode, aligned, offset, eps)
