"""Helpers shared by the RoI heads: RoI packing, per-class NMS, empty results and mask pasting."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from vk_ops import batched_nms

from vk_det.structures.bbox import bbox2roi, get_box_tensor

__all__ = [
    "batched_nms",
    "bbox2roi",
    "empty_instances",
    "get_box_tensor",
    "multiclass_nms",
    "paste_masks_in_image",
]

# Mask pasting samples at most N x H x W floats per chunk; keep a chunk under this many bytes.
_PASTE_CHUNK_BYTES = 256 * 1024**2
# Masks pasted together; small chunks of similar-size boxes waste little work on padding to the largest box.
_PASTE_CHUNK_SIZE = 16


def multiclass_nms(
    multi_bboxes: Tensor,
    multi_scores: Tensor,
    score_thr: float,
    nms_cfg: dict,
    max_num: int = -1,
    score_factors: Tensor | None = None,
    return_inds: bool = False,
    box_dim: int = 4,
):
    """Per-class NMS over ``(n, C*4 or 4)`` boxes and ``(n, C+1)`` scores (last column is background).

    Returns ``(dets (k, 5), labels (k,))`` sorted by score, plus the flat indices of kept entries when
    ``return_inds`` (index into the ``n * C`` candidates, as MMDetection).
    """
    num_classes = multi_scores.size(1) - 1
    num = multi_scores.size(0)
    if multi_bboxes.shape[1] > box_dim:
        bboxes = multi_bboxes.view(num, -1, box_dim)
    else:
        bboxes = multi_bboxes[:, None].expand(num, num_classes, box_dim)
    scores = multi_scores[:, :-1]
    labels = torch.arange(num_classes, dtype=torch.long, device=scores.device).view(1, -1).expand_as(scores)
    bboxes = bboxes.reshape(-1, box_dim)
    scores = scores.reshape(-1)
    labels = labels.reshape(-1)
    if score_factors is not None:
        scores = scores * score_factors.view(-1, 1).expand(num, num_classes).reshape(-1)
    inds = (scores > score_thr).nonzero(as_tuple=False).squeeze(1)
    bboxes, scores, labels = bboxes[inds], scores[inds], labels[inds]
    if bboxes.numel() == 0:
        dets = torch.cat([bboxes, scores[:, None]], -1)
        return (dets, labels, inds) if return_inds else (dets, labels)
    dets, keep = batched_nms(bboxes, scores, labels, nms_cfg)
    if max_num > 0:
        dets = dets[:max_num]
        keep = keep[:max_num]
    if return_inds:
        return dets, labels[keep], inds[keep]
    return dets, labels[keep]


def empty_instances(
    batch_img_metas: list[dict],
    device,
    task_type: str,
    instance_results: list | None = None,
    mask_thr_binary: float = 0,
    num_classes: int = 80,
    score_per_cls: bool = False,
):
    """Results with zero instances: boxes/scores/labels for ``'bbox'``, ``(0, H, W)`` masks for ``'mask'``."""
    from vk_core.structures import InstanceData

    if task_type not in ("bbox", "mask"):
        raise ValueError(f"empty_instances: task_type must be 'bbox' or 'mask', got {task_type!r}")
    if instance_results is not None and len(instance_results) != len(batch_img_metas):
        raise ValueError(f"empty_instances: {len(instance_results)} instance results for {len(batch_img_metas)} images")
    out = []
    for i, img_meta in enumerate(batch_img_metas):
        results = InstanceData() if instance_results is None else instance_results[i]
        if task_type == "bbox":
            results.bboxes = torch.zeros(0, 4, device=device)
            results.scores = torch.zeros((0, num_classes + 1) if score_per_cls else (0,), device=device)
            results.labels = torch.zeros((0,), dtype=torch.long, device=device)
        else:
            img_h, img_w = img_meta["ori_shape"][:2]
            dtype = torch.bool if mask_thr_binary >= 0 else torch.uint8
            results.masks = torch.zeros(0, img_h, img_w, dtype=dtype, device=device)
        out.append(results)
    return out


def _paste_chunk(
    out: Tensor, inds: Tensor, masks: Tensor, boxes: Tensor, img_h: int, img_w: int, threshold: float
) -> None:
    """Paste masks ``inds`` into their planes of ``out`` (``(N, img_h, img_w)``, zero-initialised).

    Each mask is resampled on its box's pixel window (the box plus one pixel, clipped to the image) and is zero
    elsewhere. The chunk's masks are sampled on a window as large as its largest box in one ``grid_sample``
    call; each mask's own window is then copied into its plane as a rectangle. That copy is a Python loop, but
    of one slice assignment per mask: on one CPU thread it beat scattering through int64 pixel indices by
    2.5x on an 800 x 1216 image (the index arithmetic costs more than the copies).
    """
    x0, y0, x1, y1 = boxes.unbind(1)
    x0i = (x0.floor() - 1).clamp(min=0).long()
    y0i = (y0.floor() - 1).clamp(min=0).long()
    x1i = (x1.ceil() + 1).clamp(max=img_w).long()
    y1i = (y1.ceil() + 1).clamp(max=img_h).long()
    ww = (x1i - x0i).clamp(min=0)
    wh = (y1i - y0i).clamp(min=0)
    win_w = max(int(ww.max()), 1)
    win_h = max(int(wh.max()), 1)
    device = masks.device
    xs = x0i[:, None] + torch.arange(win_w, device=device)  # (n, win_w) image columns
    ys = y0i[:, None] + torch.arange(win_h, device=device)
    bw = (x1 - x0)[:, None]
    bh = (y1 - y0)[:, None]
    # Pixel centres mapped to the box's [-1, 1] frame; a degenerate box maps to the mask centre (0).
    gx = torch.where(bw > 0, ((xs.float() + 0.5) - x0[:, None]) / bw * 2 - 1, torch.zeros_like(bw))
    gy = torch.where(bh > 0, ((ys.float() + 0.5) - y0[:, None]) / bh * 2 - 1, torch.zeros_like(bh))
    n = masks.size(0)
    grid = torch.stack([gx[:, None, :].expand(n, win_h, win_w), gy[:, :, None].expand(n, win_h, win_w)], dim=3)
    values = F.grid_sample(masks.float(), grid, align_corners=False)[:, 0]
    values = values >= threshold if threshold >= 0 else (values * 255).to(torch.uint8)
    rects = torch.stack([inds, x0i, y0i, ww, wh], 1).tolist()
    for k, (i, xa, ya, w, h) in enumerate(rects):
        out[i, ya : ya + h, xa : xa + w] = values[k, :h, :w]


def paste_masks_in_image(masks: Tensor, boxes: Tensor, img_h: int, img_w: int, threshold: float = 0.5) -> Tensor:
    """Paste ``(N, 1, m, m)`` mask probabilities into ``(N, img_h, img_w)`` image masks at ``boxes`` (xyxy).

    With ``threshold >= 0`` the result is boolean (``prob >= threshold``), otherwise uint8 probabilities x 255.
    """
    if masks.dim() != 4 or masks.size(1) != 1:
        raise ValueError(f"paste_masks_in_image: masks must have shape (N, 1, m, m), got {tuple(masks.shape)}")
    if boxes.dim() != 2 or boxes.size(0) != masks.size(0) or boxes.size(1) != 4:
        raise ValueError(f"paste_masks_in_image: boxes must have shape ({masks.size(0)}, 4), got {tuple(boxes.shape)}")
    n = masks.size(0)
    dtype = torch.bool if threshold >= 0 else torch.uint8
    out = torch.zeros(n, img_h, img_w, dtype=dtype, device=masks.device)
    if n == 0:
        return out
    # Boxes of similar size share a chunk, so each chunk's common window stays close to its boxes' own; a
    # chunk's sampled windows stay under the memory budget.
    area = (boxes[:, 2] - boxes[:, 0]).clamp(min=1) * (boxes[:, 3] - boxes[:, 1]).clamp(min=1)
    order = area.argsort()
    chunk = int(min(_PASTE_CHUNK_SIZE, max(1, _PASTE_CHUNK_BYTES // max(1, 4 * img_h * img_w))))
    for start in range(0, n, chunk):
        inds = order[start : start + chunk]
        _paste_chunk(out, inds, masks[inds], boxes[inds], img_h, img_w, threshold)
    return out
