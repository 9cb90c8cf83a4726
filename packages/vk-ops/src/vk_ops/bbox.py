"""Box geometry operators."""

from __future__ import annotations

import torch

from vk_ops._dispatch import implementation

OVERLAP_MODES = ("iou", "iof", "giou")


def bbox_overlaps(
    bboxes1: torch.Tensor, bboxes2: torch.Tensor, mode: str = "iou", aligned: bool = False, offset: int = 0
) -> torch.Tensor:
    """Overlaps between two sets of boxes in (x1, y1, x2, y2) format.

    Args:
        bboxes1: (N, 4) boxes.
        bboxes2: (M, 4) boxes, same dtype and device as ``bboxes1``.
        mode: ``'iou'`` (intersection over union), ``'iof'`` (intersection over the area of ``bboxes1``) or
            ``'giou'`` (generalised IoU, in [-1, 1]).
        aligned: compare ``bboxes1[i]`` with ``bboxes2[i]`` only (N must equal M) and return shape (N,).
        offset: 0, or 1 for the legacy convention where a box from x1 to x2 is ``x2 - x1 + 1`` pixels wide.

    Returns:
        (N, M) overlaps, or (N,) when ``aligned``.

    Example:
        >>> b1 = torch.tensor([[0., 0., 10., 10.], [10., 10., 20., 20.], [32., 32., 38., 42.]])
        >>> b2 = torch.tensor([[0., 0., 10., 20.], [0., 10., 10., 19.], [10., 10., 20., 20.]])
        >>> bbox_overlaps(b1, b2)
        tensor([[0.5000, 0.0000, 0.0000],
                [0.0000, 0.0000, 1.0000],
                [0.0000, 0.0000, 0.0000]])
    """
    for name, boxes in (("bboxes1", bboxes1), ("bboxes2", bboxes2)):
        if not isinstance(boxes, torch.Tensor):
            raise TypeError(f"bbox_overlaps: {name} must be a torch.Tensor, got {type(boxes).__name__}")
        if boxes.dim() != 2 or boxes.shape[1] != 4:
            raise ValueError(f"bbox_overlaps: {name} must have shape (N, 4), got {tuple(boxes.shape)}")
    if mode not in OVERLAP_MODES:
        raise ValueError(f"bbox_overlaps: mode must be one of {OVERLAP_MODES}, got {mode!r}")
    if offset not in (0, 1):
        raise ValueError(f"bbox_overlaps: offset must be 0 or 1, got {offset!r}")
    if aligned and bboxes1.shape[0] != bboxes2.shape[0]:
        raise ValueError(
            f"bbox_overlaps: aligned=True needs as many boxes in bboxes1 ({bboxes1.shape[0]}) as in "
            f"bboxes2 ({bboxes2.shape[0]})"
        )
    if bboxes1.dtype != bboxes2.dtype or bboxes1.device != bboxes2.device:
        raise ValueError(
            f"bbox_overlaps: bboxes1 is {bboxes1.dtype} on {bboxes1.device} but bboxes2 is "
            f"{bboxes2.dtype} on {bboxes2.device}"
        )
    return implementation("bbox_overlaps", bboxes1.device.type)(bboxes1, bboxes2, mode, aligned, offset)
