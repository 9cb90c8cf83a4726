"""Chooses, per operator and device, between the compiled kernel and the PyTorch reference."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch

from vk_ops import _loader, reference

# Operator name -> its PyTorch reference (same arguments as the public vk_ops function of that name, or for
# nms, the kept indices of torch.ops.vk_ops.nms). The compiled schema lives in csrc/ops.cpp under the same name.
REFERENCES: dict[str, Callable] = {
    "bbox_overlaps": reference.bbox_overlaps,
    "nms": reference.nms,
    "soft_nms": reference.soft_nms,
    "nms_match": reference.nms_match,
    "roi_align": reference.roi_align,
    "roi_pool": reference.roi_pool,
    "sigmoid_focal_loss": reference.sigmoid_focal_loss,
    "softmax_focal_loss": reference.softmax_focal_loss,
}

_DISPATCH_KEYS = {"cpu": "CPU", "cuda": "CUDA"}


def has_kernel(op: str, device_type: str) -> bool:
    key = _DISPATCH_KEYS.get(device_type)
    if key is None or not _loader.kernels_loaded():
        return False
    return torch._C._dispatch_has_kernel_for_dispatch_key(f"vk_ops::{op}", key)


# Decided once at import so that torch.compile traces a plain dictionary lookup, never a dispatcher query.
_CHOICES: dict[tuple[str, str], bool] = {(op, dev): has_kernel(op, dev) for op in REFERENCES for dev in _DISPATCH_KEYS}
_WARNED: set[tuple[str, str]] = set()


def use_kernel(op: str, device_type: str) -> bool:
    """True when ``op`` has a compiled kernel for ``device_type``; warns once per (op, device) otherwise."""
    key = (op, device_type)
    choice = _CHOICES.get(key)
    if choice is None:
        choice = _CHOICES[key] = has_kernel(op, device_type)
    if not choice and key not in _WARNED:
        _WARNED.add(key)
        if _loader.kernels_loaded():
            # Kernels are loaded but not for this device; a build-wide reason was already warned at import.
            warnings.warn(
                f"vk_ops.{op}: no {device_type} kernel in this build; using the PyTorch reference (slower)",
                RuntimeWarning,
                stacklevel=3,
            )
    return choice


def implementation(op: str, device_type: str) -> Callable:
    """The callable that runs ``op`` for tensors on ``device_type``: the dispatcher op or its reference."""
    if use_kernel(op, device_type):
        return getattr(torch.ops.vk_ops, op)
    return REFERENCES[op]


def available() -> dict[str, dict[str, str]]:
    """Per operator and device: ``'kernel'`` or ``'reference'``."""
    return {op: {dev: "kernel" if has_kernel(op, dev) else "reference" for dev in _DISPATCH_KEYS} for op in REFERENCES}
