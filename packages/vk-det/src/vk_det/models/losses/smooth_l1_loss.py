"""Smooth L1 and L1 regression losses."""

from __future__ import annotations

import torch
import torch.nn as nn

from vk_det.models._compat import MODELS
from vk_det.models.losses.utils import check_reduction, weighted_loss


def _check_shapes(name, pred, target):
    if pred.shape != target.shape:
        raise ValueError(
            f"{name}: pred and target must have the same shape, got {tuple(pred.shape)} and {tuple(target.shape)}"
        )


@weighted_loss
def smooth_l1_loss(pred, target, beta=1.0):
    if beta <= 0:
        raise ValueError(f"smooth_l1_loss: beta must be > 0, got {beta}")
    _check_shapes("smooth_l1_loss", pred, target)
    if target.numel() == 0:
        return pred.sum() * 0
    diff = torch.abs(pred - target)
    return torch.where(diff < beta, 0.5 * diff * diff / beta, diff - 0.5 * beta)


@weighted_loss
def l1_loss(pred, target):
    _check_shapes("l1_loss", pred, target)
    if target.numel() == 0:
        return pred.sum() * 0
    return torch.abs(pred - target)


@MODELS.register_module()
class SmoothL1Loss(nn.Module):
    def __init__(self, beta=1.0, reduction="mean", loss_weight=1.0):
        super().__init__()
        self.beta = beta
        self.reduction = check_reduction("SmoothL1Loss", reduction, reduction)
        self.loss_weight = loss_weight

    def forward(self, pred, target, weight=None, avg_factor=None, reduction_override=None, **kwargs):
        if weight is not None and not torch.any(weight > 0):
            # Keeps the graph connected (zero gradient) when nothing is weighted, e.g. no positives.
            return (pred * weight).sum() if pred.dim() == weight.dim() else pred.sum() * 0
        reduction = check_reduction("SmoothL1Loss", reduction_override, self.reduction)
        return self.loss_weight * smooth_l1_loss(
            pred, target, weight, beta=self.beta, reduction=reduction, avg_factor=avg_factor, **kwargs
        )


@MODELS.register_module()
class L1Loss(nn.Module):
    def __init__(self, reduction="mean", loss_weight=1.0):
        super().__init__()
        self.reduction = check_reduction("L1Loss", reduction, reduction)
        self.loss_weight = loss_weight

    def forward(self, pred, target, weight=None, avg_factor=None, reduction_override=None):
        if weight is not None and not torch.any(weight > 0):
            return (pred * weight).sum() if pred.dim() == weight.dim() else pred.sum() * 0
        reduction = check_reduction("L1Loss", reduction_override, self.reduction)
        return self.loss_weight * l1_loss(pred, target, weight, reduction=reduction, avg_factor=avg_factor)
