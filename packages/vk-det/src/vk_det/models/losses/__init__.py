"""Losses with MMDetection's ``weighted_loss`` semantics (weight, avg_factor, reduction_override)."""

from vk_det.models.losses.cross_entropy_loss import (
    CrossEntropyLoss,
    binary_cross_entropy,
    cross_entropy,
    mask_cross_entropy,
)
from vk_det.models.losses.focal_loss import FocalLoss, py_sigmoid_focal_loss, sigmoid_focal_loss
from vk_det.models.losses.iou_loss import GIoULoss, IoULoss, giou_loss, iou_loss
from vk_det.models.losses.smooth_l1_loss import L1Loss, SmoothL1Loss, l1_loss, smooth_l1_loss
from vk_det.models.losses.utils import reduce_loss, weight_reduce_loss, weighted_loss

__all__ = [
    "CrossEntropyLoss",
    "FocalLoss",
    "GIoULoss",
    "IoULoss",
    "L1Loss",
    "SmoothL1Loss",
    "binary_cross_entropy",
    "cross_entropy",
    "giou_loss",
    "iou_loss",
    "l1_loss",
    "mask_cross_entropy",
    "py_sigmoid_focal_loss",
    "reduce_loss",
    "sigmoid_focal_loss",
    "smooth_l1_loss",
    "weight_reduce_loss",
    "weighted_loss",
]
