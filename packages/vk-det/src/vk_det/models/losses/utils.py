"""Loss reduction helpers with MMDetection's semantics (element weights, ``avg_factor``, reductions)."""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

_REDUCTIONS = ("none", "mean", "sum")


def reduce_loss(loss, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    enum = F._Reduction.get_enum(reduction)
    if enum == 0:
        return loss
    return loss.mean() if enum == 1 else loss.sum()


def weight_reduce_loss(loss, weight=None, reduction="mean", avg_factor=None):
    """Multiply by ``weight`` then reduce; with ``avg_factor``, 'mean' is ``sum / avg_factor``.

    ``avg_factor`` with ``reduction='sum'`` is an error (the factor would be silently ignored).
    """
    if weight is not None:
        loss = loss * weight
    if avg_factor is None:
        return reduce_loss(loss, reduction)
    if reduction == "mean":
        # eps keeps an avg_factor of 0 (no positives) from dividing by zero.
        return loss.sum() / (avg_factor + torch.finfo(torch.float32).eps)
    if reduction == "none":
        return loss
    raise ValueError('avg_factor can not be used with reduction="sum"')


def weighted_loss(loss_func):
    """Turn an element-wise ``loss_func(pred, target, **kw)`` into ``(pred, target, weight, reduction,
    avg_factor, **kw)`` with :func:`weight_reduce_loss` applied to its output."""

    @functools.wraps(loss_func)
    def wrapper(pred, target, weight=None, reduction="mean", avg_factor=None, **kwargs):
        loss = loss_func(pred, target, **kwargs)
        return weight_reduce_loss(loss, weight, reduction, avg_factor)

    return wrapper


def check_reduction(name, reduction_override, default):
    if reduction_override not in (None, *_REDUCTIONS):
        raise ValueError(f"{name}: reduction_override must be None or one of {_REDUCTIONS}, got {reduction_override!r}")
    return reduction_override or default
