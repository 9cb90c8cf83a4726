"""Sigmoid and softmax focal losses (Lin et al. 2017) with MMCV's API and formulas.

``target`` holds class indices (N,) int64. Sigmoid: a target outside [0, C) (e.g. C = background) makes every
class of the row a negative. Softmax: a target outside [0, C) marks an ignored row (loss 0). ``weight`` (C,)
scales each row by the weight of its target class (1 when the target is not a class). ``reduction='mean'``
divides the sum by N (rows), as MMCV does, not by N * C.
"""

from __future__ import annotations

import torch
from torch import nn

from vk_ops import reference
from vk_ops._dispatch import use_kernel

REDUCTIONS = ("none", "mean", "sum")


def _check(op: str, input, target, weight, reduction) -> None:
    if not isinstance(input, torch.Tensor) or input.dim() != 2 or not input.is_floating_point():
        shape = tuple(input.shape) if isinstance(input, torch.Tensor) else type(input).__name__
        raise ValueError(f"{op}: input must be a floating (N, C) tensor, got {shape}")
    if not isinstance(target, torch.Tensor) or target.dim() != 1 or target.shape[0] != input.shape[0]:
        shape = tuple(target.shape) if isinstance(target, torch.Tensor) else type(target).__name__
        raise ValueError(f"{op}: target must be an (N,) = ({input.shape[0]},) tensor of class indices, got {shape}")
    if target.dtype != torch.long:
        raise ValueError(f"{op}: target must be int64 class indices, got {target.dtype}")
    if weight is not None and (weight.dim() != 1 or weight.shape[0] != input.shape[1]):
        raise ValueError(f"{op}: weight must have shape ({input.shape[1]},) (one per class), got {tuple(weight.shape)}")
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _reduce(loss: torch.Tensor, reduction: str, rows: int) -> torch.Tensor:
    if reduction == "mean":
        return loss.sum() / rows
    if reduction == "sum":
        return loss.sum()
    return loss


def sigmoid_focal_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    gamma: float = 2.0,
    alpha: float = 0.25,
    weight: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    """Per class: ``-alpha (1-p)^gamma log(p)`` for the target class, ``-(1-alpha) p^gamma log(1-p)`` for the
    others, ``p = sigmoid(input)``. Returns (N, C) for ``reduction='none'``, else a scalar."""
    _check("sigmoid_focal_loss", input, target, weight, reduction)
    if use_kernel("sigmoid_focal_loss", input.device.type):
        loss = torch.ops.vk_ops.sigmoid_focal_loss(input, target, weight, float(gamma), float(alpha))
        return _reduce(loss, reduction, input.shape[0])
    return reference.sigmoid_focal_loss(input, target, gamma, alpha, weight, reduction)


def softmax_focal_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    gamma: float = 2.0,
    alpha: float = 0.25,
    weight: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    """Per row: ``-alpha (1-p_t)^gamma log(p_t)``, ``p = softmax(input)``. Returns (N,) for ``'none'``."""
    _check("softmax_focal_loss", input, target, weight, reduction)
    if use_kernel("softmax_focal_loss", input.device.type):
        loss = torch.ops.vk_ops.softmax_focal_loss(input, target, weight, float(gamma), float(alpha))
        return _reduce(loss, reduction, input.shape[0])
    return reference.softmax_focal_loss(input, target, gamma, alpha, weight, reduction)


class SigmoidFocalLoss(nn.Module):
    def __init__(self, gamma: float, alpha: float, weight: torch.Tensor | None = None, reduction: str = "mean"):
        super().__init__()
        self.gamma, self.alpha, self.reduction = gamma, alpha, reduction
        self.register_buffer("weight", weight)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return sigmoid_focal_loss(input, target, self.gamma, self.alpha, self.weight, self.reduction)

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}, alpha={self.alpha}, reduction={self.reduction}"


class SoftmaxFocalLoss(SigmoidFocalLoss):
    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return softmax_focal_loss(input, target, self.gamma, self.alpha, self.weight, self.reduction)
