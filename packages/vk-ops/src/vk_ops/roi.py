"""RoI feature extractors with MMCV's API: ``roi_align``/``RoIAlign``, ``roi_pool``/``RoIPool``."""

from __future__ import annotations

import torch
from torch import nn

from vk_ops import reference
from vk_ops._dispatch import use_kernel
from vk_ops.reference.roi import _pair, check_rois

POOL_MODES = {"max": 0, "avg": 1}


def _check_inputs(op: str, input, rois) -> None:
    for name, t in (("input", input), ("rois", rois)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{op}: {name} must be a torch.Tensor, got {type(t).__name__}")
    if input.dim() != 4:
        raise ValueError(f"{op}: input must have shape (N, C, H, W), got {tuple(input.shape)}")
    if rois.dim() != 2 or rois.shape[1] != 5:
        raise ValueError(f"{op}: rois must have shape (K, 5) = (batch index, x1, y1, x2, y2), got {tuple(rois.shape)}")
    if input.dtype != rois.dtype or input.device != rois.device:
        raise ValueError(f"{op}: input is {input.dtype} on {input.device} but rois are {rois.dtype} on {rois.device}")


def roi_align(
    input: torch.Tensor,
    rois: torch.Tensor,
    output_size,
    spatial_scale: float = 1.0,
    sampling_ratio: int = 0,
    pool_mode: str = "avg",
    aligned: bool = True,
) -> torch.Tensor:
    """RoIAlign (He et al. 2017) with MMCV semantics.

    Args:
        input: (N, C, H, W) features.
        rois: (K, 5) RoIs ``(batch index, x1, y1, x2, y2)`` in input-image coordinates.
        output_size: ``int`` or ``(h, w)`` bins per RoI.
        spatial_scale: feature stride inverse (e.g. 1/16).
        sampling_ratio: bilinear samples per bin side; 0 = adaptive ``ceil(roi size / bins)``.
        pool_mode: ``'avg'`` or ``'max'`` over the samples of a bin.
        aligned: shift by half a pixel (the corrected Detectron2 convention); ``False`` is the legacy mode in
            which RoIs are at least 1x1.

    Returns:
        (K, C, h, w) pooled features; differentiable with respect to ``input``.
    """
    _check_inputs("roi_align", input, rois)
    ph, pw = _pair(output_size, "roi_align")
    if pool_mode not in POOL_MODES:
        raise ValueError(f"roi_align: pool_mode must be 'avg' or 'max', got {pool_mode!r}")
    if use_kernel("roi_align", input.device.type):
        out, _, _ = torch.ops.vk_ops.roi_align(
            input, rois, ph, pw, float(spatial_scale), int(sampling_ratio), POOL_MODES[pool_mode], bool(aligned)
        )
        return out
    return reference.roi_align(input, rois, (ph, pw), spatial_scale, sampling_ratio, pool_mode, aligned)


def roi_pool(input: torch.Tensor, rois: torch.Tensor, output_size, spatial_scale: float = 1.0) -> torch.Tensor:
    """RoIPool (Fast R-CNN): max over integer-rounded bins, MMCV semantics (a RoI spans x1 .. x2 + 1).

    Empty bins and malformed RoIs (non-positive size) give 0 and no gradient. Returns (K, C, h, w).
    """
    _check_inputs("roi_pool", input, rois)
    ph, pw = _pair(output_size, "roi_pool")
    if use_kernel("roi_pool", input.device.type):
        out, _ = torch.ops.vk_ops.roi_pool(input, rois, ph, pw, float(spatial_scale))
        return out
    return reference.roi_pool(input, rois, (ph, pw), spatial_scale)


class RoIAlign(nn.Module):
    """Module form of :func:`roi_align`; ``use_torchvision`` is accepted for MMCV config compatibility and
    ignored (vk has its own kernel)."""

    def __init__(
        self,
        output_size,
        spatial_scale: float = 1.0,
        sampling_ratio: int = 0,
        pool_mode: str = "avg",
        aligned: bool = True,
        use_torchvision: bool = False,
    ):
        super().__init__()
        self.output_size = _pair(output_size, "RoIAlign")
        self.spatial_scale = float(spatial_scale)
        self.sampling_ratio = int(sampling_ratio)
        if pool_mode not in POOL_MODES:
            raise ValueError(f"RoIAlign: pool_mode must be 'avg' or 'max', got {pool_mode!r}")
        self.pool_mode = pool_mode
        self.aligned = bool(aligned)
        self.use_torchvision = use_torchvision

    def forward(self, input: torch.Tensor, rois: torch.Tensor) -> torch.Tensor:
        return roi_align(
            input, rois, self.output_size, self.spatial_scale, self.sampling_ratio, self.pool_mode, self.aligned
        )

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, spatial_scale={self.spatial_scale}, "
            f"sampling_ratio={self.sampling_ratio}, pool_mode={self.pool_mode}, aligned={self.aligned}"
        )


class RoIPool(nn.Module):
    """Module form of :func:`roi_pool`."""

    def __init__(self, output_size, spatial_scale: float = 1.0):
        super().__init__()
        self.output_size = _pair(output_size, "RoIPool")
        self.spatial_scale = float(spatial_scale)

    def forward(self, input: torch.Tensor, rois: torch.Tensor) -> torch.Tensor:
        return roi_pool(input, rois, self.output_size, self.spatial_scale)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}, spatial_scale={self.spatial_scale}"


__all__ = ["RoIAlign", "RoIPool", "check_rois", "roi_align", "roi_pool"]
