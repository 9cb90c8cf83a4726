"""Model utilities: checkpoint loading for ``Pretrained`` init, SyncBN conversion, anomalous-parameter search."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

NORM_TYPES = (_BatchNorm, _InstanceNorm, nn.GroupNorm, nn.LayerNorm)


def is_norm(layer: nn.Module, exclude=None) -> bool:
    """True for batch, instance, group and layer norm modules (``exclude``: types to ignore)."""
    if exclude is not None:
        if not isinstance(exclude, tuple):
            exclude = (exclude,)
        if isinstance(layer, exclude):
            return False
    return isinstance(layer, NORM_TYPES)


def has_batch_norm(model: nn.Module) -> bool:
    return any(isinstance(m, _BatchNorm) for m in model.modules())


def load_state_dict_from_source(
    module: nn.Module, source: str, prefix: str | None = None, map_location: str | None = "cpu"
) -> dict:
    """Load weights from a path or URL into ``module`` non-strictly; ``prefix`` keeps only keys under it.

    The checkpoint readers (local, http, torchvision://) live with the runner; they are imported only here,
    when a ``Pretrained`` initializer actually runs.
    """
    from vk_core.runner.checkpoint import CheckpointLoader, load_state_dict

    checkpoint = CheckpointLoader.load_checkpoint(source, map_location=map_location)
    state_dict = checkpoint.get("state_dict", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state_dict, dict):
        raise TypeError(f"Pretrained init: {source} does not hold a state dict (got {type(checkpoint).__name__})")
    state_dict = OrderedDict((k[len("module.") :] if k.startswith("module.") else k, v) for k, v in state_dict.items())
    if prefix:
        if not prefix.endswith("."):
            prefix += "."
        selected = OrderedDict((k[len(prefix) :], v) for k, v in state_dict.items() if k.startswith(prefix))
        if not selected:
            some = ", ".join(list(state_dict)[:5])
            raise ValueError(f"Pretrained init: no key of {source} starts with prefix {prefix!r} (keys begin: {some})")
        state_dict = selected
    return load_state_dict(module, state_dict, strict=False)


def revert_sync_batchnorm(module: nn.Module) -> nn.Module:
    """Replace every ``SyncBatchNorm`` with a ``BatchNorm2d`` holding the same state (for CPU / single GPU)."""
    result = module
    if isinstance(module, nn.SyncBatchNorm):
        result = nn.BatchNorm2d(
            module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats
        )
        if module.affine:
            with torch.no_grad():
                result.weight = module.weight
                result.bias = module.bias
        result.running_mean = module.running_mean
        result.running_var = module.running_var
        result.num_batches_tracked = module.num_batches_tracked
        result.training = module.training
    for name, child in module.named_children():
        result.add_module(name, revert_sync_batchnorm(child))
    return result


def convert_sync_batchnorm(module: nn.Module, process_group=None) -> nn.Module:
    return nn.SyncBatchNorm.convert_sync_batchnorm(module, process_group)


def find_unused_parameters(loss: torch.Tensor, model: nn.Module) -> list[str]:
    """Names of trainable parameters that the autograd graph of ``loss`` does not reach."""
    reached = set()
    seen = set()
    stack = [loss.grad_fn] if loss.grad_fn is not None else []
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        variable = getattr(fn, "variable", None)
        if variable is not None:
            reached.add(id(variable))
        stack.extend(next_fn for next_fn, _ in fn.next_functions)
    return [name for name, p in model.named_parameters() if p.requires_grad and id(p) not in reached]


def detect_anomalous_params(loss: torch.Tensor, model: nn.Module) -> list[str]:
    """Log (and return) trainable parameters not used to compute ``loss``; a debugging aid for DDP errors."""
    names = find_unused_parameters(loss, model)
    if names:
        from vk_core.logging import print_log

        print_log(
            "parameters not used to produce the loss (set find_unused_parameters=True or use them): "
            + ", ".join(names),
            logger="current",
            level=40,
        )
    return names
