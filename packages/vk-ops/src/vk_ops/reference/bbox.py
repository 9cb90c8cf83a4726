"""Reference box geometry."""

from __future__ import annotations

import torch

_EPS = 1e-6


def bbox_overlaps(
    bboxes1: torch.Tensor,
    bboxes2: torch.Tensor,
    mode: str = "iou",
    aligned: bool = False,
    offset: int = 0,
    eps: float = _EPS,
) -> torch.Tensor:
    """Same contract as :func:`vk_ops.bbox_overlaps`; computed with broadcasting in the input dtype.

    Unlike the kernel it also takes leading batch dimensions (``(..., N, 4)`` with ``(..., M, 4)`` gives
    ``(..., N, M)``) and is differentiable, which the IoU losses of the task packages rely on.
    """
    if aligned:
        a, b = bboxes1, bboxes2
    else:
        a, b = bboxes1[..., :, None, :], bboxes2[..., None, :, :]
    area_a = (a[..., 2] - a[..., 0] + offset) * (a[..., 3] - a[..., 1] + offset)
    area_b = (b[..., 2] - b[..., 0] + offset) * (b[..., 3] - b[..., 1] + offset)
    lt = torch.maximum(a[..., :2], b[..., :2])
    rb = torch.minimum(a[..., 2:], b[..., 2:])
    wh = (rb - lt + offset).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    if mode == "iof":
        return inter / area_a.clamp(min=eps)
    union = (area_a + area_b - inter).clamp(min=eps)
    iou = inter / union
    if mode == "iou":
        return iou
    enclose_wh = (torch.maximum(a[..., 2:], b[..., 2:]) - torch.minimum(a[..., :2], b[..., :2]) + offset).clamp(min=0)
    enclose = (enclose_wh[..., 0] * enclose_wh[..., 1]).clamp(min=eps)
    return iou - (enclose - union) / enclose
