"""Registering torch optimizers and ``build_optim_wrapper(model, cfg)``."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Mapping

import torch
from torch import nn

from vk_core.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIMIZERS


def register_torch_optimizers() -> list[str]:
    """Register every ``torch.optim.Optimizer`` subclass under its class name; returns the names."""
    names = []
    for name in dir(torch.optim):
        obj = getattr(torch.optim, name)
        if inspect.isclass(obj) and issubclass(obj, torch.optim.Optimizer) and obj is not torch.optim.Optimizer:
            OPTIMIZERS.register_module(module=obj, force=True)
            names.append(name)
    return names


TORCH_OPTIMIZERS = register_torch_optimizers()


def build_optim_wrapper(model: nn.Module, cfg: Mapping):
    """Build an optimizer wrapper for ``model`` from ``cfg``.

    ``cfg`` holds ``optimizer=dict(type=..., lr=...)``, optional wrapper arguments (``type``,
    ``accumulative_counts``, ``clip_grad``, ``dtype``...), ``paramwise_cfg`` and ``constructor`` (default
    ``DefaultOptimWrapperConstructor``).
    """
    if not isinstance(cfg, Mapping):
        raise TypeError(f"optim_wrapper config must be a dict, got {type(cfg).__name__}: {cfg!r}")
    cfg = dict(copy.deepcopy(cfg))
    constructor_type = cfg.pop("constructor", "DefaultOptimWrapperConstructor")
    paramwise_cfg = cfg.pop("paramwise_cfg", None)
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type=constructor_type, optim_wrapper_cfg=cfg, paramwise_cfg=paramwise_cfg)
    )
    return constructor(model)
