"""Box helpers on (N, 4) xyxy tensors or arrays, as MMDetection's ``structures.bbox`` functions."""

from __future__ import annotations

import numpy as np
import torch


def get_box_tensor(boxes) -> torch.Tensor:
    """Return the raw (N, 4) tensor of ``boxes`` (a HorizontalBoxes or a tensor)."""
    from .boxes import HorizontalBoxes

    if isinstance(boxes, HorizontalBoxes):
        return boxes.tensor
    if not isinstance(boxes, torch.Tensor):
        raise TypeError(f"get_box_tensor expects a tensor or HorizontalBoxes, got {type(boxes).__name__}")
    return boxes


def _check_boxes(boxes, name: str = "bboxes") -> None:
    if boxes.ndim < 1 or boxes.shape[-1] % 4 != 0:
        raise ValueError(f"{name} must have a last dimension of 4 (x1, y1, x2, y2), got shape {tuple(boxes.shape)}")


def bbox_flip(bboxes, img_shape, direction: str = "horizontal"):
    """Flip xyxy boxes inside an image of ``img_shape`` (h, w); works on tensors and arrays of shape (..., 4k)."""
    _check_boxes(bboxes)
    if direction not in ("horizontal", "vertical", "diagonal"):
        raise ValueError(f"direction must be horizontal, vertical or diagonal, got {direction!r}")
    h, w = img_shape[:2]
    flipped = bboxes.clone() if isinstance(bboxes, torch.Tensor) else bboxes.copy()
    if direction in ("horizontal", "diagonal"):
        flipped[..., 0::4] = w - bboxes[..., 2::4]
        flipped[..., 2::4] = w - bboxes[..., 0::4]
    if direction in ("vertical", "diagonal"):
        flipped[..., 1::4] = h - bboxes[..., 3::4]
        flipped[..., 3::4] = h - bboxes[..., 1::4]
    return flipped


def bbox_mapping(bboxes, img_shape, scale_factor, flip: bool, flip_direction: str = "horizontal"):
    """Map boxes from the original image to the test-time-augmented one (scale, then flip)."""
    new = bboxes * bboxes.new_tensor(scale_factor).repeat(2) if isinstance(bboxes, torch.Tensor) else None
    if new is None:
        new = bboxes * np.tile(np.asarray(scale_factor, dtype=np.float32), 2)
    if flip:
        new = bbox_flip(new, img_shape, flip_direction)
    return new


def bbox_mapping_back(bboxes, img_shape, scale_factor, flip: bool, flip_direction: str = "horizontal"):
    """Inverse of :func:`bbox_mapping`: un-flip, then divide by the scale factor."""
    new = bbox_flip(bboxes, img_shape, flip_direction) if flip else bboxes
    factor = new.new_tensor(scale_factor).repeat(2)
    return new.view(-1, 4) / factor


def scale_boxes(boxes, scale_factor):
    """Multiply xyxy boxes by ``scale_factor`` = (w_scale, h_scale)."""
    if len(scale_factor) != 2:
        raise ValueError(f"scale_factor must be (w_scale, h_scale), got {scale_factor!r}")
    from .boxes import HorizontalBoxes

    if isinstance(boxes, HorizontalBoxes):
        boxes.rescale_(scale_factor)
        return boxes
    factor = boxes.new_tensor(scale_factor).repeat(2)
    return boxes * factor


def bbox2roi(bbox_list) -> torch.Tensor:
    """Stack per-image (Ni, 4+) boxes into (sum Ni, 5) rois ``[batch_index, x1, y1, x2, y2]``."""
    rois = []
    for img_id, bboxes in enumerate(bbox_list):
        bboxes = get_box_tensor(bboxes)
        idx = bboxes.new_full((bboxes.size(0), 1), img_id)
        rois.append(torch.cat([idx, bboxes[:, :4]], dim=-1))
    if not rois:
        return torch.zeros((0, 5))
    return torch.cat(rois, 0)


def roi2bbox(rois: torch.Tensor) -> list[torch.Tensor]:
    """Split (N, 5) rois back into a list of per-image (Ni, 4) boxes, one entry per batch index present."""
    if rois.ndim != 2 or rois.size(1) != 5:
        raise ValueError(f"rois must have shape (N, 5), got {tuple(rois.shape)}")
    img_ids = torch.unique(rois[:, 0].cpu(), sorted=True)
    return [rois[rois[:, 0] == i, 1:] for i in img_ids]


def bbox_xyxy_to_cxcywh(bbox: torch.Tensor) -> torch.Tensor:
    x1, y1, x2, y2 = bbox.split((1, 1, 1, 1), dim=-1)
    return torch.cat([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], dim=-1)


def bbox_cxcywh_to_xyxy(bbox: torch.Tensor) -> torch.Tensor:
    cx, cy, w, h = bbox.split((1, 1, 1, 1), dim=-1)
    return torch.cat([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], dim=-1)


def bbox_xyxy_to_xywh(bbox):
    out = bbox.clone() if isinstance(bbox, torch.Tensor) else np.array(bbox, dtype=np.float64, copy=True)
    out[..., 2] = bbox[..., 2] - bbox[..., 0]
    out[..., 3] = bbox[..., 3] - bbox[..., 1]
    return out


def bbox_xywh_to_xyxy(bbox):
    out = bbox.clone() if isinstance(bbox, torch.Tensor) else np.array(bbox, dtype=np.float64, copy=True)
    out[..., 2] = bbox[..., 0] + bbox[..., 2]
    out[..., 3] = bbox[..., 1] + bbox[..., 3]
    return out


def bbox2result(bboxes: torch.Tensor, labels: torch.Tensor, num_classes: int) -> list[np.ndarray]:
    """Per-class list of (n, 5) arrays ``[x1, y1, x2, y2, score]``, the MMDetection 2.x result layout."""
    if bboxes.shape[0] == 0:
        return [np.zeros((0, 5), dtype=np.float32) for _ in range(num_classes)]
    bboxes = bboxes.detach().cpu().numpy()
    labels = labels.detach().cpu().numpy()
    return [bboxes[labels == i, :] for i in range(num_classes)]


def empty_box_as(boxes: torch.Tensor) -> torch.Tensor:
    return boxes.new_zeros((0, 4))
