"""Reference NMS family: the textbook greedy loops, in the same arithmetic as the kernels.

Tie rule: boxes are visited by descending score; equal scores keep their input order (stable sort). Reduced
precision inputs (half, bfloat16) are computed in float32, as the kernels do.
"""

from __future__ import annotations

import torch


def _compute(t: torch.Tensor) -> torch.Tensor:
    return t.float() if t.dtype in (torch.float16, torch.bfloat16) else t


def _areas(boxes: torch.Tensor, offset: float) -> torch.Tensor:
    return (boxes[:, 2] - boxes[:, 0] + offset) * (boxes[:, 3] - boxes[:, 1] + offset)


def _iou_one_to_many(box: torch.Tensor, area: torch.Tensor, others: torch.Tensor, areas: torch.Tensor, offset: float):
    # Same operation order as iou_of() in csrc/common/geometry.h: union = area_a + area_b - inter.
    w = (torch.minimum(box[2], others[:, 2]) - torch.maximum(box[0], others[:, 0]) + offset).clamp(min=0)
    h = (torch.minimum(box[3], others[:, 3]) - torch.maximum(box[1], others[:, 1]) + offset).clamp(min=0)
    inter = w * h
    return inter / (area + areas - inter)


def nms(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    iou_threshold: float,
    offset: int = 0,
    score_threshold: float = 0.0,
    max_num: int = -1,
) -> torch.Tensor:
    """Kept indices into ``boxes``, highest score first (the contract of ``torch.ops.vk_ops.nms``)."""
    boxes, scores = _compute(boxes), _compute(scores)
    candidates = torch.arange(boxes.shape[0], device=boxes.device)
    if score_threshold > 0:
        candidates = candidates[scores > score_threshold]
    order = candidates[torch.sort(scores[candidates], descending=True, stable=True).indices]
    ordered = boxes[order]
    areas = _areas(ordered, offset)
    suppressed = torch.zeros(order.shape[0], dtype=torch.bool, device=boxes.device)
    keep = []
    for i in range(order.shape[0]):
        if suppressed[i]:
            continue
        keep.append(i)
        if 0 < max_num <= len(keep):
            break
        iou = _iou_one_to_many(ordered[i], areas[i], ordered[i + 1 :], areas[i + 1 :], offset)
        suppressed[i + 1 :] |= iou > torch.tensor(iou_threshold, dtype=boxes.dtype)
    return order[torch.tensor(keep, dtype=torch.long, device=boxes.device)]


_SOFT_METHODS = {"naive": 0, "linear": 1, "gaussian": 2}


def soft_nms(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    iou_threshold: float = 0.3,
    sigma: float = 0.5,
    min_score: float = 1e-3,
    method: int | str = "linear",
    offset: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Soft-NMS as MMCV computes it; returns (dets (K, 5) with decayed scores, kept indices (K,))."""
    code = _SOFT_METHODS[method] if isinstance(method, str) else int(method)
    out_dtype = boxes.dtype
    b = _compute(boxes).clone()
    s = _compute(scores).clone()
    idx = torch.arange(b.shape[0], device=b.device)
    areas = _areas(b, offset)
    dets = []
    live = b.shape[0]
    i = 0
    while i < live:
        best = i + int(torch.argmax(s[i:live]))  # first maximum, like the kernel's strict comparison
        for t in (b, s, areas, idx):
            t[[i, best]] = t[[best, i]]
        dets.append(torch.cat([b[i], s[i : i + 1]]))
        p = i + 1
        while p < live:
            ovr = _iou_one_to_many(b[i], areas[i], b[p : p + 1], areas[p : p + 1], offset)[0]
            if code == 0:
                weight = 0.0 if ovr >= iou_threshold else 1.0
            elif code == 1:
                weight = 1.0 - ovr if ovr >= iou_threshold else 1.0
            else:
                weight = torch.exp(-(ovr * ovr) / torch.tensor(sigma, dtype=b.dtype))
            s[p] = s[p] * weight
            if s[p] < min_score:
                last = live - 1
                for t in (b, s, areas, idx):
                    t[p] = t[last]
                live -= 1
                p -= 1
            p += 1
        i += 1
    if not dets:
        return boxes.new_zeros((0, 5)), torch.zeros(0, dtype=torch.long, device=boxes.device)
    return torch.stack(dets).to(out_dtype), idx[:live].clone()


def nms_match(dets: torch.Tensor, iou_threshold: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Groups as (flat indices, group sizes): each group is a kept box followed by the boxes it matched
    (IoU >= threshold, no pixel offset), groups in descending score order."""
    d = _compute(dets)
    order = torch.sort(d[:, 4], descending=True, stable=True).indices
    boxes = d[:, :4]
    areas = _areas(boxes, 0)
    suppressed = torch.zeros(d.shape[0], dtype=torch.bool)
    flat: list[int] = []
    sizes: list[int] = []
    for a in range(order.shape[0]):
        i = int(order[a])
        if suppressed[i]:
            continue
        rest = order[a + 1 :]
        rest = rest[~suppressed[rest]]
        iou = _iou_one_to_many(boxes[i], areas[i], boxes[rest], areas[rest], 0)
        matched = rest[iou >= torch.tensor(iou_threshold, dtype=d.dtype)]
        suppressed[matched] = True
        flat += [i, *matched.tolist()]
        sizes.append(1 + matched.numel())
    return torch.tensor(flat, dtype=torch.long), torch.tensor(sizes, dtype=torch.long)
