"""Chooses, per operator and device, between the compiled kernel and the PyTorch reference."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable

import torch

from vk_ops import _loader, reference

# Operator name -> its PyTorch reference. The compiled schema lives in csrc/ops.cpp under the same name.
REFERENCES: dict[str, Callable] = {
    "bbox_overlaps": reference.bbox_overlaps,
}

_DISPATCH_KEYS = {"cpu": "CPU", "cuda": "CUDA"}


def has_kernel(op: str, device_type: str) -> bool:
    key = _DISPATCH_KEYS.get(device_type)
    if key is None or not _loader.kernels_loaded():
        return False
    return torch._C._dispatch_has_kernel_for_dispatch_key(f"vk_ops::{op}", key)


@functools.cache
def implementation(op: str, device_type: str) -> Callable:
    """The callable that runs ``op`` for tensors on ``device_type``; warns once per (op, device) on fallback."""
    if has_kernel(op, device_type):
        return getattr(torch.ops.vk_ops, op)
    if _loader.kernels_loaded():
        # Kernels are loaded but not for this device; a build-wide reason was already warned at import.
        warnings.warn(
            f"vk_ops.{op}: no {device_type} kernel in this build; using the PyTorch reference (slower)",
            RuntimeWarning,
            stacklevel=3,
        )
    return REFERENCES[op]


def available() -> dict[str, dict[str, str]]:
    """Per operator and device: ``'kernel'`` or ``'reference'``."""
    return {op: {dev: "kernel" if has_kernel(op, dev) else "reference" for dev in _DISPATCH_KEYS} for op in REFERENCES}
