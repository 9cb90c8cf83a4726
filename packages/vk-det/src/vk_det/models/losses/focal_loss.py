"""Sigmoid focal loss (Lin et al. 2017) on the vk-ops kernel, with a pure-PyTorch path for one-hot targets."""

from __future__ import annotations

import torch.nn as nn
import torch.nn.functional as F

from vk_det.models._compat import MODELS
from vk_det.models._compat import sigmoid_focal_loss as _sigmoid_focal_loss_op
from vk_det.models.losses.utils import check_reduction, weight_reduce_loss


def _shape_weight(weight, loss):
    if weight is not None and weight.shape != loss.shape:
        # A per-sample weight (N,) or a flattened (N*C,) weight is broadcast over the classes.
        weight = weight.view(-1, 1) if weight.size(0) == loss.size(0) else weight.view(loss.size(0), -1)
    return weight


def py_sigmoid_focal_loss(pred, target, weight=None, gamma=2.0, alpha=0.25, reduction="mean", avg_factor=None):
    """Focal loss on a dense (one-hot or soft) ``target`` of the same shape as ``pred``."""
    p = pred.sigmoid()
    target = target.type_as(pred)
    pt = (1 - p) * target + p * (1 - target)
    focal_weight = (alpha * target + (1 - alpha) * (1 - target)) * pt.pow(gamma)
    loss = F.binary_cross_entropy_with_logits(pred, target, reduction="none") * focal_weight
    return weight_reduce_loss(loss, _shape_weight(weight, loss), reduction, avg_factor)


def py_focal_loss_with_prob(pred, target, weight=None, gamma=2.0, alpha=0.25, reduction="mean", avg_factor=None):
    """Focal loss on probabilities (``activated=True``); integer targets are one-hot encoded first."""
    if pred.dim() != target.dim():
        num_classes = pred.size(1)
        target = F.one_hot(target, num_classes=num_classes + 1)[:, :num_classes]
    target = target.type_as(pred)
    pt = (1 - pred) * target + pred * (1 - target)
    focal_weight = (alpha * target + (1 - alpha) * (1 - target)) * pt.pow(gamma)
    loss = F.binary_cross_entropy(pred, target, reduction="none") * focal_weight
    return weight_reduce_loss(loss, _shape_weight(weight, loss), reduction, avg_factor)


def sigmoid_focal_loss(pred, target, weight=None, gamma=2.0, alpha=0.25, reduction="mean", avg_factor=None):
    """Focal loss on integer ``target`` in [0, num_classes] (num_classes = background) via vk_ops."""
    loss = _sigmoid_focal_loss_op(pred.contiguous(), target.contiguous().long(), gamma, alpha, None, "none")
    return weight_reduce_loss(loss, _shape_weight(weight, loss), reduction, avg_factor)


@MODELS.register_module()
class FocalLoss(nn.Module):
    def __init__(self, use_sigmoid=True, gamma=2.0, alpha=0.25, reduction="mean", loss_weight=1.0, activated=False):
        super().__init__()
        if not use_sigmoid:
            raise ValueError("FocalLoss: only the sigmoid form is supported (use_sigmoid=True)")
        check_reduction("FocalLoss", reduction, reduction)
        self.use_sigmoid = use_sigmoid
        self.gamma, self.alpha = gamma, alpha
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.activated = activated

    def forward(self, pred, target, weight=None, avg_factor=None, reduction_override=None):
        reduction = check_reduction("FocalLoss", reduction_override, self.reduction)
        if self.activated:
            fn = py_focal_loss_with_prob
        elif pred.dim() == target.dim():
            fn = py_sigmoid_focal_loss
        else:
            if target.dim() != 1 or target.size(0) != pred.size(0):
                raise ValueError(
                    f"FocalLoss: integer targets must have shape ({pred.size(0)},), got {tuple(target.shape)}"
                )
            fn = sigmoid_focal_loss
        return self.loss_weight * fn(
            pred, target, weight, gamma=self.gamma, alpha=self.alpha, reduction=reduction, avg_factor=avg_factor
        )
