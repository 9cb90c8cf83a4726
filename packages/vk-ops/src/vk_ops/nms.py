"""NMS family with MMCV's API: ``nms``, ``batched_nms``, ``soft_nms``, ``nms_match``.

numpy inputs give numpy outputs, tensors give tensors (as upstream). Tie rule: boxes are visited by descending
score and equal scores keep their input order, so the kept set is fully determined by the inputs.
"""

from __future__ import annotations

import numpy as np
import torch

from vk_ops import reference
from vk_ops._dispatch import use_kernel

SOFT_NMS_METHODS = {"naive": 0, "linear": 1, "gaussian": 2}


def _as_tensor(op: str, name: str, value) -> torch.Tensor:
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    if isinstance(value, torch.Tensor):
        return value
    raise TypeError(f"{op}: {name} must be a torch.Tensor or numpy.ndarray, got {type(value).__name__}")


def _check_boxes_scores(op: str, boxes: torch.Tensor, scores: torch.Tensor) -> None:
    if boxes.dim() != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{op}: boxes must have shape (N, 4), got {tuple(boxes.shape)}")
    if scores.dim() != 1 or scores.shape[0] != boxes.shape[0]:
        raise ValueError(f"{op}: scores must have shape ({boxes.shape[0]},) to match boxes, got {tuple(scores.shape)}")
    if not boxes.is_floating_point() or boxes.dtype != scores.dtype:
        raise ValueError(f"{op}: boxes and scores must share one floating dtype, got {boxes.dtype} and {scores.dtype}")
    if boxes.device != scores.device:
        raise ValueError(f"{op}: boxes are on {boxes.device} but scores are on {scores.device}")


def _check_offset(op: str, offset) -> None:
    if offset not in (0, 1):
        raise ValueError(f"{op}: offset must be 0 or 1, got {offset!r}")


def nms_indices(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    iou_threshold: float,
    offset: int = 0,
    score_threshold: float = 0.0,
    max_num: int = -1,
) -> torch.Tensor:
    """Kept indices into ``boxes`` (highest score first) from the kernel, or the reference where there is none."""
    if use_kernel("nms", boxes.device.type):
        return torch.ops.vk_ops.nms(boxes, scores, iou_threshold, offset, score_threshold, max_num)
    return reference.nms(boxes, scores, iou_threshold, offset, score_threshold, max_num)


def nms(boxes, scores, iou_threshold: float, offset: int = 0, score_threshold: float = 0, max_num: int = -1):
    """Greedy non-maximum suppression.

    A box is suppressed when its IoU with a kept, higher-scoring box is **greater than** ``iou_threshold``.

    Args:
        boxes: (N, 4) boxes (x1, y1, x2, y2), tensor or numpy array.
        scores: (N,) scores, same dtype as ``boxes``.
        iou_threshold: IoU above which the lower-scoring box is dropped.
        offset: 0, or 1 for the legacy ``x2 - x1 + 1`` box width.
        score_threshold: when > 0, boxes with score <= it are dropped first.
        max_num: keep at most this many boxes (-1: all).

    Returns:
        ``(dets, keep)``: dets (K, 5) = kept boxes and scores, highest score first; keep (K,) int64 indices into
        the inputs. numpy in, numpy out.

    Example:
        >>> boxes = np.array([[49.1, 32.4, 51.0, 35.9], [49.3, 32.9, 51.0, 35.3], [49.2, 31.8, 51.0, 35.4],
        ...                   [35.1, 11.5, 39.1, 15.7], [35.6, 11.8, 39.3, 14.2], [35.3, 11.5, 39.9, 14.5],
        ...                   [35.2, 11.7, 39.7, 15.7]], dtype=np.float32)
        >>> scores = np.array([0.9, 0.9, 0.5, 0.5, 0.5, 0.4, 0.3], dtype=np.float32)
        >>> dets, keep = nms(boxes, scores, 0.6)
        >>> keep
        array([0, 3, 4])
    """
    is_numpy = isinstance(boxes, np.ndarray)
    boxes_t, scores_t = _as_tensor("nms", "boxes", boxes), _as_tensor("nms", "scores", scores)
    _check_boxes_scores("nms", boxes_t, scores_t)
    _check_offset("nms", offset)
    keep = nms_indices(boxes_t, scores_t, float(iou_threshold), int(offset), float(score_threshold), int(max_num))
    dets = torch.cat([boxes_t[keep], scores_t[keep][:, None]], dim=1)
    if is_numpy:
        return dets.numpy(), keep.numpy()
    return dets, keep


def soft_nms(
    boxes,
    scores,
    iou_threshold: float = 0.3,
    sigma: float = 0.5,
    min_score: float = 1e-3,
    method: str = "linear",
    offset: int = 0,
):
    """Soft-NMS (Bodla et al. 2017): overlapping boxes have their scores decayed instead of being dropped.

    ``method`` is ``'linear'`` (score *= 1 - IoU when IoU >= iou_threshold), ``'gaussian'``
    (score *= exp(-IoU^2 / sigma)) or ``'naive'`` (hard NMS with >=). Boxes whose score falls below
    ``min_score`` are removed. Returns ``(dets, inds)``: dets (K, 5) with the decayed scores in selection order
    and inds (K,) into the inputs. numpy in, numpy out. Computed on the CPU (a sequential algorithm).
    """
    if method not in SOFT_NMS_METHODS:
        raise ValueError(f"soft_nms: method must be one of {tuple(SOFT_NMS_METHODS)}, got {method!r}")
    is_numpy = isinstance(boxes, np.ndarray)
    boxes_t, scores_t = _as_tensor("soft_nms", "boxes", boxes), _as_tensor("soft_nms", "scores", scores)
    _check_boxes_scores("soft_nms", boxes_t, scores_t)
    _check_offset("soft_nms", offset)
    device = boxes_t.device
    args = (float(iou_threshold), float(sigma), float(min_score))
    if use_kernel("soft_nms", "cpu"):
        dets, inds = torch.ops.vk_ops.soft_nms(
            boxes_t.cpu(), scores_t.cpu(), *args, SOFT_NMS_METHODS[method], int(offset)
        )
    else:
        dets, inds = reference.soft_nms(boxes_t.cpu(), scores_t.cpu(), *args, method, int(offset))
    if is_numpy:
        return dets.numpy(), inds.numpy()
    return dets.to(device), inds.to(device)


def nms_match(dets, iou_threshold: float):
    """Groups boxes by the greedy NMS that would keep each group's first member.

    Args:
        dets: (N, 5) boxes with scores, tensor or numpy array.
        iou_threshold: a box joins a group when its IoU with the group's kept box is >= this value.

    Returns:
        A list of int64 tensors (or numpy arrays), one per kept box in descending score order: the kept index
        followed by the indices it suppressed.
    """
    is_numpy = isinstance(dets, np.ndarray)
    dets_t = _as_tensor("nms_match", "dets", dets)
    if dets_t.dim() != 2 or dets_t.shape[1] != 5:
        raise ValueError(f"nms_match: dets must have shape (N, 5) = boxes and scores, got {tuple(dets_t.shape)}")
    if dets_t.shape[0] == 0:
        return []
    cpu = dets_t.detach().cpu()
    if use_kernel("nms_match", "cpu"):
        flat, sizes = torch.ops.vk_ops.nms_match(cpu, float(iou_threshold))
    else:
        flat, sizes = reference.nms_match(cpu, float(iou_threshold))
    groups = torch.split(flat, sizes.tolist())
    if is_numpy:
        return [g.numpy().astype(int) for g in groups]
    return [g.to(dets_t.device) for g in groups]


def batched_nms(
    boxes: torch.Tensor, scores: torch.Tensor, idxs: torch.Tensor, nms_cfg: dict | None, class_agnostic=False
):
    """NMS run independently per category (``idxs``), as MMCV's ``batched_nms``.

    Boxes of different categories are moved apart by ``idxs * (max coordinate + 1)`` so that one NMS call never
    lets them suppress each other. With ``nms_cfg['split_thr']`` (default 10000) boxes or more, NMS runs per
    category instead (less memory and time on huge inputs) and ``max_num`` applies to the merged result.

    Args:
        boxes: (N, 4) boxes.
        scores: (N,) scores.
        idxs: (N,) category of each box.
        nms_cfg: ``dict(type='nms' | 'soft_nms', iou_threshold=..., ...)``, plus optional ``class_agnostic`` and
            ``split_thr``; ``None`` only sorts by score (no suppression).
        class_agnostic: ignore ``idxs`` (overridden by ``nms_cfg['class_agnostic']``).

    Returns:
        ``(dets, keep)``: dets (K, 5) boxes with their (possibly decayed) scores, highest first; keep (K,).
    """
    for name, t in (("boxes", boxes), ("scores", scores), ("idxs", idxs)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"batched_nms: {name} must be a torch.Tensor, got {type(t).__name__}")
    _check_boxes_scores("batched_nms", boxes, scores)
    if idxs.shape != scores.shape:
        raise ValueError(f"batched_nms: idxs must have shape {tuple(scores.shape)}, got {tuple(idxs.shape)}")
    if nms_cfg is None:
        order = torch.sort(scores, descending=True, stable=True).indices
        return torch.cat([boxes[order], scores[order][:, None]], -1), order
    if not isinstance(nms_cfg, dict):
        raise TypeError(f"batched_nms: nms_cfg must be a dict or None, got {type(nms_cfg).__name__}")
    cfg = dict(nms_cfg)
    class_agnostic = cfg.pop("class_agnostic", class_agnostic)
    nms_type = cfg.pop("type", "nms")
    ops = {"nms": nms, "soft_nms": soft_nms}
    if nms_type not in ops:
        raise ValueError(f"batched_nms: nms_cfg['type'] must be one of {tuple(ops)}, got {nms_type!r}")
    nms_op = ops[nms_type]
    split_thr = cfg.pop("split_thr", 10000)
    if boxes.shape[0] == 0:
        return boxes.new_zeros((0, 5)), torch.zeros(0, dtype=torch.long, device=boxes.device)
    if class_agnostic:
        boxes_for_nms = boxes
    else:
        offsets = idxs.to(boxes) * (boxes.max() + 1)
        boxes_for_nms = boxes + offsets[:, None]
    if boxes_for_nms.shape[0] < split_thr:
        dets, keep = nms_op(boxes_for_nms, scores, **cfg)
        boxes = boxes[keep]
        scores = dets[:, -1]
    else:
        max_num = cfg.pop("max_num", -1)
        total_mask = scores.new_zeros(scores.shape, dtype=torch.bool)
        scores_after = scores.new_zeros(scores.shape)
        for category in torch.unique(idxs):
            mask = (idxs == category).nonzero().view(-1)
            dets, keep = nms_op(boxes_for_nms[mask], scores[mask], **cfg)
            total_mask[mask[keep]] = True
            scores_after[mask[keep]] = dets[:, -1]
        keep = total_mask.nonzero().view(-1)
        scores, order = torch.sort(scores_after[keep], descending=True, stable=True)
        keep = keep[order]
        boxes = boxes[keep]
        if max_num > 0:
            keep, boxes, scores = keep[:max_num], boxes[:max_num], scores[:max_num]
    return torch.cat([boxes, scores[:, None]], -1), keep
