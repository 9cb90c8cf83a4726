"""IoU-based box losses (IoU, GIoU) on (x1, y1, x2, y2) boxes, differentiable in PyTorch."""

from __future__ import annotations

import torch
import torch.nn as nn
from vk_ops.reference import bbox_overlaps as differentiable_overlaps

from vk_det.models._compat import MODELS
from vk_det.models.losses.utils import check_reduction, weighted_loss

_IOU_MODES = ("linear", "square", "log")


def _check_boxes(name, pred, target):
    if pred.shape != target.shape or pred.shape[-1] != 4:
        raise ValueError(
            f"{name}: pred and target must both be (N, 4), got {tuple(pred.shape)} and {tuple(target.shape)}"
        )


@weighted_loss
def iou_loss(pred, target, linear=False, mode="log", eps=1e-6):
    _check_boxes("iou_loss", pred, target)
    if linear:
        mode = "linear"
    if mode not in _IOU_MODES:
        raise ValueError(f"iou_loss: mode must be one of {_IOU_MODES}, got {mode!r}")
    ious = differentiable_overlaps(pred, target, "iou", aligned=True, eps=eps).clamp(min=eps)
    if mode == "linear":
        return 1 - ious
    if mode == "square":
        return 1 - ious**2
    return -ious.log()


@weighted_loss
def giou_loss(pred, target, eps=1e-7):
    _check_boxes("giou_loss", pred, target)
    return 1 - differentiable_overlaps(pred, target, "giou", aligned=True, eps=eps)


class _IoUBase(nn.Module):
    def __init__(self, reduction, loss_weight):
        super().__init__()
        self.reduction = check_reduction(type(self).__name__, reduction, reduction)
        self.loss_weight = loss_weight

    def _prepare(self, pred, weight, reduction_override):
        reduction = check_reduction(type(self).__name__, reduction_override, self.reduction)
        if weight is not None and not torch.any(weight > 0) and reduction != "none":
            if pred.dim() == weight.dim() + 1:
                weight = weight.unsqueeze(1)
            return reduction, None, (pred * weight).sum()
        if weight is not None and weight.dim() > 1:
            if weight.shape != pred.shape:
                raise ValueError(
                    f"{type(self).__name__}: weight shape {tuple(weight.shape)} != pred shape {tuple(pred.shape)}"
                )
            weight = weight.mean(-1)
        return reduction, weight, None


@MODELS.register_module()
class IoULoss(_IoUBase):
    """``mode`` 'log' (-log IoU, default), 'linear' (1 - IoU) or 'square' (1 - IoU^2)."""

    def __init__(self, linear=False, eps=1e-6, reduction="mean", loss_weight=1.0, mode="log"):
        super().__init__(reduction, loss_weight)
        if mode not in _IOU_MODES:
            raise ValueError(f"IoULoss: mode must be one of {_IOU_MODES}, got {mode!r}")
        self.mode = "linear" if linear else mode
        self.linear = linear
        self.eps = eps

    def forward(self, pred, target, weight=None, avg_factor=None, reduction_override=None, **kwargs):
        reduction, weight, early = self._prepare(pred, weight, reduction_override)
        if early is not None:
            return early
        return self.loss_weight * iou_loss(
            pred, target, weight, mode=self.mode, eps=self.eps, reduction=reduction, avg_factor=avg_factor, **kwargs
        )


@MODELS.register_module()
class GIoULoss(_IoUBase):
    def __init__(self, eps=1e-6, reduction="mean", loss_weight=1.0):
        super().__init__(reduction, loss_weight)
        self.eps = eps

    def forward(self, pred, target, weight=None, avg_factor=None, reduction_override=None, **kwargs):
        reduction, weight, early = self._prepare(pred, weight, reduction_override)
        if early is not None:
            return early
        return self.loss_weight * giou_loss(
            pred, target, weight, eps=self.eps, reduction=reduction, avg_factor=avg_factor, **kwargs
        )
