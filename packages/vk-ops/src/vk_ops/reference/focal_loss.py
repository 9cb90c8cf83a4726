"""Reference focal losses (MMCV formulas, log arguments clamped at FLT_MIN, mean = sum / N)."""

from __future__ import annotations

import torch

FLT_MIN = 1.1754943508222875e-38


def _row_weight(target: torch.Tensor, weight: torch.Tensor | None, classes: int, like: torch.Tensor) -> torch.Tensor:
    if weight is None:
        return torch.ones_like(like[:, 0])
    is_class = (target >= 0) & (target < classes)
    return torch.where(is_class, weight.to(like.dtype)[target.clamp(0, classes - 1)], torch.ones_like(like[:, 0]))


def _reduce(loss: torch.Tensor, reduction: str, rows: int) -> torch.Tensor:
    if reduction == "mean":
        return loss.sum() / rows
    if reduction == "sum":
        return loss.sum()
    return loss


def sigmoid_focal_loss(input, target, gamma=2.0, alpha=0.25, weight=None, reduction="mean"):
    """Same contract as :func:`vk_ops.sigmoid_focal_loss`."""
    x = input.float() if input.dtype in (torch.float16, torch.bfloat16) else input
    classes = x.shape[1]
    p = torch.sigmoid(x)
    positive = target[:, None] == torch.arange(classes, device=x.device)[None]
    pos = -alpha * (1 - p) ** gamma * torch.log(p.clamp(min=FLT_MIN))
    neg = -(1 - alpha) * p**gamma * torch.log((1 - p).clamp(min=FLT_MIN))
    loss = torch.where(positive, pos, neg) * _row_weight(target, weight, classes, x)[:, None]
    return _reduce(loss, reduction, x.shape[0]).to(input.dtype)


def softmax_focal_loss(input, target, gamma=2.0, alpha=0.25, weight=None, reduction="mean"):
    """Same contract as :func:`vk_ops.softmax_focal_loss`; rows whose target is not a class contribute 0."""
    x = input.float() if input.dtype in (torch.float16, torch.bfloat16) else input
    classes = x.shape[1]
    is_class = (target >= 0) & (target < classes)
    p = torch.softmax(x, dim=1).gather(1, target.clamp(0, max(classes - 1, 0))[:, None])[:, 0]
    loss = -alpha * (1 - p) ** gamma * torch.log(p.clamp(min=FLT_MIN))
    loss = torch.where(is_class, loss, torch.zeros((), dtype=x.dtype)) * _row_weight(target, weight, classes, x)
    return _reduce(loss, reduction, x.shape[0]).to(input.dtype)
